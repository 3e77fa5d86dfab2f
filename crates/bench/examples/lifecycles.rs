//! Runs N lifecycles of one stack in a plain loop, for profilers:
//! `cargo build --release -p synack-bench --example lifecycles && valgrind --tool=callgrind target/release/examples/lifecycles synack 20000`.
//! Stacks: `synack`, `synack-100k` (client and server each hold 100,000 idle connections;
//! `IDLE=N` in the environment sets another number, at most 100,000), `synack-100k-server` (only the server holds
//! them, their peers are a third endpoint), `smoltcp`.
//!
//! `lifecycles ratios [N]` runs the three comparisons (synack against smoltcp, and
//! synack with 100,000 idle connections on both endpoints and on the server against synack
//! alone) in one process, each as forty rounds of a short slice of one stack and then of the
//! other (N / 40 lifecycles a slice, default N 1,000,000), and prints each stack's median time
//! per lifecycle and the median and range of the rounds' ratios: on a machine whose speed
//! drifts with its neighbours' load, slices run moments apart see the same machine, where
//! separate runs may not.

use std::time::Instant;
use synack_bench::{smoltcp_side, synack_side};

fn main() {
    let mut args = std::env::args().skip(1);
    let stack = args.next().unwrap_or_else(|| "synack".to_string());
    let n: Option<usize> = match args.next() {
        None => None,
        Some(s) => match s.parse() {
            Ok(n) if n > 0 => Some(n),
            _ => fail(&format!("'{s}' is not a number of lifecycles")),
        },
    };
    if stack == "ratios" {
        return ratios(n.unwrap_or(1_000_000));
    }
    let n = n.unwrap_or(100_000);
    let start = Instant::now();
    match stack.as_str() {
        "synack" | "synack-100k" | "synack-100k-server" => {
            let mut pair = synack_pair(&stack);
            let start = Instant::now();
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
        other => fail(&format!("unknown stack '{other}': synack, synack-100k, synack-100k-server, smoltcp or ratios")),
    }
    report(&stack, n, start);
}

/// A synack pair with the idle connections `stack` names (`IDLE` of them, default 100,000).
fn synack_pair(stack: &str) -> synack_side::Pair {
    let mut pair = synack_side::Pair::new();
    let idle = match std::env::var("IDLE") {
        Err(_) => synack_side::MAX_IDLE,
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n <= synack_side::MAX_IDLE => n,
            _ => fail(&format!("IDLE must be a number of connections from 0 to {}", synack_side::MAX_IDLE)),
        },
    };
    match stack {
        "synack-100k" => pair.add_idle(idle),
        "synack-100k-server" => pair.add_idle_on_server(idle),
        _ => {}
    }
    pair
}

/// The three comparisons, each in forty rounds of a slice of one stack and then of the other
/// (only two stacks at a time, so that one pair's 100,000 connections do not push the
/// other's out of the caches between its slices).
fn ratios(n: usize) {
    let slice = (n / ROUNDS).max(1);
    println!(
        "{ROUNDS} rounds of {slice} lifecycles per stack, two stacks interleaved; µs per lifecycle (median, fastest)"
    );
    let mut synack = synack_pair("synack");
    let mut smoltcp = smoltcp_side::Pair::new();
    let speed_up = compare(slice, ("smoltcp", || smoltcp.lifecycle()), ("synack", || synack.lifecycle()));
    drop(smoltcp);
    let mut both = synack_pair("synack-100k");
    let with_both = compare(slice, ("synack", || synack.lifecycle()), ("synack-100k", || both.lifecycle()));
    drop(both);
    let mut server = synack_pair("synack-100k-server");
    let with_server = compare(slice, ("synack", || synack.lifecycle()), ("synack-100k-server", || server.lifecycle()));
    println!("ratios of the rounds' times (median [range])");
    for (what, r) in [
        ("synack's rate / smoltcp's", speed_up),
        ("rate, 100k on both / alone", with_both),
        ("rate, 100k on the server / alone", with_server),
    ] {
        println!("  {what:<34} {:.3} [{:.3}, {:.3}]", median(&r), r[0], r[ROUNDS - 1]);
    }
}

const ROUNDS: usize = 40;

/// Times `a` and `b` in alternating slices after an untimed one of each; prints their medians
/// and returns the rounds' ratios of `a`'s time to `b`'s, sorted.
fn compare(slice: usize, (a_name, mut a): (&str, impl FnMut()), (b_name, mut b): (&str, impl FnMut())) -> Vec<f64> {
    timed(slice, &mut a);
    timed(slice, &mut b);
    let rounds: Vec<(f64, f64)> = (0..ROUNDS).map(|_| (timed(slice, &mut a), timed(slice, &mut b))).collect();
    for (name, times) in [(a_name, sorted(rounds.iter().map(|r| r.0))), (b_name, sorted(rounds.iter().map(|r| r.1)))] {
        println!("  {name:<20} {:.3}  {:.3}", median(&times), times[0]);
    }
    sorted(rounds.iter().map(|(a, b)| a / b))
}

/// µs per call of `n` calls of `f`.
fn timed(n: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v
}

fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

fn report(stack: &str, n: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!("{stack}: {n} lifecycles in {secs:.3} s = {:.0} per second", n as f64 / secs);
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
