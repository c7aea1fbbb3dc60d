//! A small, bounded HTTP/1.1 load generator for the demo app's figures (loopback only).
//!
//! `loadgen ADDR PATH [HEADER] --concurrency C --requests N --seconds T`
//!
//! Opens C keep-alive connections to ADDR (which must be a loopback address), sends
//! `GET PATH` with HEADER (`Name: value`) on each, one request at a time per connection,
//! and stops after N requests in all or T seconds, whichever comes first. Prints one JSON
//! line: requests, non-200 answers, requests per second, p50 and p99 latency in
//! microseconds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    request: Vec<u8>,
    concurrency: usize,
    requests: u64,
    seconds: u64,
}

fn parse() -> Result<Args, String> {
    let mut positional = Vec::new();
    let (mut concurrency, mut requests, mut seconds) = (32usize, 20_000u64, 10u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--concurrency" => {
                concurrency = usize::try_from(value("--concurrency")?).map_err(|e| e.to_string())?
            }
            "--requests" => requests = value("--requests")?,
            "--seconds" => seconds = value("--seconds")?,
            _ => positional.push(arg),
        }
    }
    let [addr, path, rest @ ..] = positional.as_slice() else {
        return Err(
            "usage: loadgen ADDR PATH [HEADER] [--concurrency C] [--requests N] [--seconds T]"
                .into(),
        );
    };
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address"));
    }
    if concurrency == 0 || seconds == 0 || seconds > 120 || requests > 10_000_000 {
        return Err("bounds: concurrency >= 1, 1..=120 seconds, at most 10M requests".into());
    }
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for header in rest {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    Ok(Args {
        addr,
        request: request.into_bytes(),
        concurrency,
        requests,
        seconds,
    })
}

/// Reads one response; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(buf.get(..header_end).unwrap_or_default()).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - header_end;
    while have < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
    }
    Ok(status)
}

async fn worker(
    args: Arc<Args>,
    budget: Arc<AtomicI64>,
    deadline: Instant,
) -> std::io::Result<(Vec<u32>, u64)> {
    let mut stream = TcpStream::connect(args.addr).await?;
    stream.set_nodelay(true)?;
    let mut latencies = Vec::new();
    let mut failed = 0u64;
    let mut buf = Vec::with_capacity(4096);
    while Instant::now() < deadline && budget.fetch_sub(1, Ordering::Relaxed) > 0 {
        let start = Instant::now();
        stream.write_all(&args.request).await?;
        let status = read_response(&mut stream, &mut buf).await?;
        latencies.push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
        if status != 200 {
            failed += 1;
        }
    }
    Ok((latencies, failed))
}

fn main() -> std::process::ExitCode {
    let args = match parse() {
        Ok(args) => Arc::new(args),
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        // Each request takes one from the budget; below zero, everybody stops.
        let budget = Arc::new(AtomicI64::new(i64::try_from(args.requests).unwrap_or(i64::MAX)));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(args.seconds);
        let tasks: Vec<_> = (0..args.concurrency)
            .map(|_| tokio::spawn(worker(Arc::clone(&args), Arc::clone(&budget), deadline)))
            .collect();
        let mut all = Vec::new();
        let mut failed = 0u64;
        for task in tasks {
            match task.await {
                Ok(Ok((latencies, f))) => {
                    all.extend(latencies);
                    failed += f;
                }
                Ok(Err(e)) => {
                    eprintln!("connection failed: {e}");
                    return std::process::ExitCode::FAILURE;
                }
                Err(e) => {
                    eprintln!("task failed: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        all.sort_unstable();
        let pct = |p: f64| {
            let i = ((all.len() as f64 - 1.0) * p).round() as usize;
            all.get(i).copied().unwrap_or(0)
        };
        println!(
            "{{\"requests\":{},\"non_200\":{},\"seconds\":{:.2},\"rps\":{:.0},\"p50_us\":{},\"p99_us\":{}}}",
            all.len(),
            failed,
            elapsed,
            all.len() as f64 / elapsed,
            pct(0.50),
            pct(0.99)
        );
        std::process::ExitCode::SUCCESS
    })
}
