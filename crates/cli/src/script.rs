//! `synack script`: run packetdrill-dialect scripts and report pass or the first mismatch.

use std::path::PathBuf;
use std::process::ExitCode;
use synack_script::{collect_scripts, run_file, Profile, Verdict, PROFILE_NAMES};

pub fn run(paths: &[PathBuf], profile: &str, defines: &[String], verbose: bool) -> ExitCode {
    let Some(profile) = Profile::by_name(profile) else {
        eprintln!("unknown profile `{profile}`; known: {}", PROFILE_NAMES.join(", "));
        return ExitCode::from(2);
    };
    let files = match collect_scripts(paths) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("no .pkt scripts found");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("cannot list scripts: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let (verdict, log) = run_file(file, &profile, defines);
        match verdict {
            Verdict::Pass => {
                passed += 1;
                println!("pass  {}", file.display());
            }
            Verdict::Error(e) => {
                failed += 1;
                println!("FAIL  {}: {e}", file.display());
            }
            Verdict::Fail(f) => {
                failed += 1;
                println!("FAIL  {}: {f}", file.display());
            }
        }
        if verbose {
            for line in &log.trace {
                println!("      {line}");
            }
            for (line, cmd) in &log.ignored_commands {
                println!("      line {line}: no-op `{cmd}`");
            }
            for (line, call) in &log.nonfatal_calls {
                println!("      line {line}: not fatal (--non_fatal=syscall): {call}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
