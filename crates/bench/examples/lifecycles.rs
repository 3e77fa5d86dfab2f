//! Runs N lifecycles of one stack in a plain loop, for profilers:
//! `cargo build --release -p synack-bench --example lifecycles && valgrind --tool=callgrind target/release/examples/lifecycles synack 20000`.
//! Stacks: `synack`, `synack-100k` (client and server each hold 100,000 idle connections;
//! `IDLE=N` in the environment sets another number, at most 100,000), `synack-100k-server` (only the server holds
//! them, their peers are a third endpoint), `smoltcp`.

use synack_bench::{smoltcp_side, synack_side};

fn main() {
    let mut args = std::env::args().skip(1);
    let stack = args.next().unwrap_or_else(|| "synack".to_string());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let start = std::time::Instant::now();
    match stack.as_str() {
        "synack" | "synack-100k" | "synack-100k-server" => {
            let mut pair = synack_side::Pair::new();
            let idle = match std::env::var("IDLE") {
                Err(_) => synack_side::MAX_IDLE,
                Ok(v) => match v.parse::<usize>() {
                    Ok(n) if n <= synack_side::MAX_IDLE => n,
                    _ => {
                        eprintln!("IDLE must be a number of connections from 0 to {}", synack_side::MAX_IDLE);
                        std::process::exit(2);
                    }
                },
            };
            match stack.as_str() {
                "synack-100k" => pair.add_idle(idle),
                "synack-100k-server" => pair.add_idle_on_server(idle),
                _ => {}
            }
            let start = std::time::Instant::now();
            for _ in 0..n {
                pair.lifecycle();
            }
            report(&stack, n, start);
            return;
        }
        "smoltcp" => {
            let mut pair = smoltcp_side::Pair::new();
            for _ in 0..n {
                pair.lifecycle();
            }
        }
        other => {
            eprintln!("unknown stack '{other}': synack, synack-100k, synack-100k-server or smoltcp");
            std::process::exit(2);
        }
    }
    report(&stack, n, start);
}

fn report(stack: &str, n: usize, start: std::time::Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!("{stack}: {n} lifecycles in {secs:.3} s = {:.0} per second", n as f64 / secs);
}
