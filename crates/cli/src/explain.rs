//! `synack explain FILE`: a capture's TCP connections listed, or one of them explained.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use synack_capture::{connections, explain, ladder, read_capture, svg, Connection};

/// A capture larger than this is refused (it is read whole into memory).
const MAX_CAPTURE_BYTES: u64 = 2 << 30;

pub struct ExplainArgs {
    pub file: PathBuf,
    pub list: bool,
    pub conn: Option<usize>,
    pub port: Option<u16>,
    pub host: Option<IpAddr>,
    pub absolute: bool,
    pub svg: Option<PathBuf>,
    pub tsg: Option<PathBuf>,
}

pub fn run(args: ExplainArgs) -> ExitCode {
    match explain_file(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack explain: {e}");
            ExitCode::FAILURE
        }
    }
}

fn explain_file(args: &ExplainArgs) -> Result<(), String> {
    let name = args.file.display();
    let meta = std::fs::metadata(&args.file).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name}: not a regular file"));
    }
    if meta.len() > MAX_CAPTURE_BYTES {
        return Err(format!("{name}: larger than 2 GiB"));
    }
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{name}: {e}"))?;
    let capture = read_capture(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let all = connections(&capture);
    let chosen: Vec<&Connection> = all
        .iter()
        .filter(|c| args.port.is_none_or(|p| c.client.port() == p || c.server.port() == p))
        .filter(|c| args.host.is_none_or(|h| c.client.ip() == h || c.server.ip() == h))
        .filter(|c| args.conn.is_none_or(|n| c.id == n))
        .collect();
    if chosen.is_empty() {
        let what = if all.is_empty() { "no TCP connection in the capture" } else { "no connection matches" };
        return Err(format!(
            "{name}: {what} ({} frames, {} connections)",
            capture.frames.len() + capture.skipped,
            all.len()
        ));
    }
    let one = chosen.len() == 1 && !args.list;
    if !one {
        if args.svg.is_some() || args.tsg.is_some() {
            return Err(format!("{} connections match: choose one with --conn N to draw it", chosen.len()));
        }
        println!(
            "{name}: {}, {} frames, {} TCP connections ({} listed)",
            capture.format,
            capture.frames.len() + capture.skipped,
            all.len(),
            chosen.len()
        );
        println!("  #  client -> server  duration  packets c/s  bytes c/s  final states c/s  anomalies");
        for conn in chosen {
            println!("{}", ladder::list_line(conn, &explain(conn)));
        }
        return Ok(());
    }
    let conn = chosen[0];
    let ex = explain(conn);
    print!("{}", ladder::render(conn, &ex, args.absolute));
    if let Some(path) = &args.svg {
        std::fs::write(path, svg::ladder_svg(conn, &ex, args.absolute))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.tsg {
        std::fs::write(path, svg::time_sequence_svg(conn, &ex)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
