//! The ratio table printed at the end of a bench run, from criterion's own result files:
//! each entry against the bare SHA-256 compressions an HMAC of the token needs, and against
//! the pre-keyed `hmac` state.
//!
//! Absolute times on a shared or virtual machine move from run to run; ratios to a floor
//! measured in the same run move much less, so those are what the README reports.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One measured function: its criterion id and its median time in nanoseconds.
struct Entry {
    id: String,
    median_ns: f64,
}

/// Prints, for each `(group, floor)`, every entry of that group written since `since`,
/// with its median, its ratio to the group's compression floor (the id starting with
/// `floor/sha256-blocks`) and its ratio to the group's `floor` entry.
pub(crate) fn print(since: SystemTime, groups: &[(&str, &str)], note: &str) {
    let root = criterion_dir();
    println!();
    println!("ratios to the floors of the same group (medians of this run; {note})");
    for (group, floor) in groups {
        let entries = read_group(&root.join(group), since);
        let Some(base) = entries.get(*floor).map(|e| e.median_ns) else {
            println!("  {group}: no {floor} in this run");
            continue;
        };
        let blocks = entries
            .values()
            .find(|e| e.id.starts_with("floor/sha256-blocks"))
            .map_or(f64::NAN, |e| e.median_ns);
        println!();
        println!(
            "  {:<44} {:>12} {:>13} {:>11}",
            format!("{group}/"),
            "median",
            "/sha256-floor",
            format!("/{}", floor.trim_start_matches("floor/"))
        );
        let mut sorted: Vec<&Entry> = entries.values().collect();
        sorted.sort_by(|a, b| a.median_ns.total_cmp(&b.median_ns));
        for e in sorted {
            println!(
                "  {:<44} {:>12} {:>12.2}x {:>10.2}x",
                e.id,
                human(e.median_ns),
                e.median_ns / blocks,
                e.median_ns / base
            );
        }
    }
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        // The workspace's target directory, one level above this package.
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

/// Every `.../new/` result under `dir` newer than `since`, by id within the group.
fn read_group(dir: &Path, since: SystemTime) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = fs::read_dir(&d) else { continue };
        for entry in read.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                if let Some(e) = read_entry(&path, since) {
                    out.insert(e.id.clone(), e);
                }
            } else if path
                .file_name()
                .is_some_and(|n| n != "base" && n != "change")
            {
                stack.push(path);
            }
        }
    }
    out
}

fn read_entry(new: &Path, since: SystemTime) -> Option<Entry> {
    let estimates = new.join("estimates.json");
    let modified = fs::metadata(&estimates).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let bench: serde_json::Value =
        serde_json::from_slice(&fs::read(new.join("benchmark.json")).ok()?).ok()?;
    let estimates: serde_json::Value = serde_json::from_slice(&fs::read(estimates).ok()?).ok()?;
    let function = bench.get("function_id")?.as_str()?;
    let id = match bench.get("value_str").and_then(serde_json::Value::as_str) {
        Some(value) => format!("{function}/{value}"),
        None => function.to_owned(),
    };
    let median_ns = estimates.get("median")?.get("point_estimate")?.as_f64()?;
    Some(Entry { id, median_ns })
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} us", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}
