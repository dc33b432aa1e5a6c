//! Crash recovery's dangling-create lookup against the audit log's size.
//!
//! Two logs are written (records sealed in memory, then written in one go
//! with their head): `SMALL` and `LARGE` records of intent/outcome pairs
//! with a few creates left without an outcome. For each, the first lookup
//! reads and verifies the whole log and keeps its position in the
//! `FILE.recovery` index; later lookups read only what was appended since.
//! Printed: the first (index-building) read of each log, the indexed lookup
//! of each (median of `RUNS`), their ratio (about 1 when the lookup does not
//! depend on the log's length), a lookup after 100 new records, and the
//! process's peak RSS.
//!
//! `cargo bench --bench recovery` runs the full size (1,000 and 1,000,000
//! records). Without `--bench` (as `cargo test --all-targets` runs it) the
//! sizes are small: a smoke check that still asserts the answers.
//! `MORTAR_BENCH_SMALL` and `MORTAR_BENCH_LARGE` override them.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use mortar::apply::recovery::{self, Lookup};
use mortar::audit::head::{self, Head};
use mortar::audit::{AuditAction, AuditEvent, AuditLog, AuditRecord, Outcome, RecordHash, Trigger};
use mortar::manifest::{Kind, ResourceKey};

const RUNS: usize = 21;
/// One create in this many pairs is left without an outcome.
const DANGLING_EVERY: usize = 50_000;

fn size(var: &str, full: usize, quick: usize) -> usize {
    let bench = std::env::args().any(|a| a == "--bench");
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { full } else { quick })
}

fn event(i: usize, action: AuditAction) -> AuditEvent {
    let key = ResourceKey {
        workspace: "prod".into(),
        kind: Kind::Job,
        name: format!("job-{i}"),
    };
    let mut e = AuditEvent::intent("analytics", &key, action, Trigger::Controller);
    e.revision = Some("4f1c2e9a7b3d4f1c2e9a7b3d4f1c2e9a7b3d4f1c".into());
    e.acting_as = Some("mortar-deployer".into());
    e
}

/// Writes a log of about `records` records (intent/outcome pairs; every
/// `DANGLING_EVERY`th pair is a create intent alone) and its head; returns
/// the path, the number of records written and the dangling creates.
fn write_log(dir: &Path, records: usize) -> (PathBuf, u64, BTreeSet<(String, String)>) {
    let path = dir.join(format!("audit-{records}.jsonl"));
    let file = std::fs::File::create(&path).expect("create log");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut prev = RecordHash::genesis();
    let mut seq = 0u64;
    let start = Timestamp::now();
    let mut dangling = BTreeSet::new();
    let mut write = |e: AuditEvent, prev: &mut RecordHash, seq: &mut u64| {
        *seq += 1;
        let ts = start
            .checked_add(SignedDuration::from_millis(*seq as i64))
            .expect("timestamp");
        let r = AuditRecord::seal(*seq, ts, prev.clone(), e).expect("seal");
        let mut line = r.to_line().expect("line");
        line.push('\n');
        out.write_all(line.as_bytes()).expect("write");
        *prev = r.hash;
    };
    let mut i = 0;
    while (seq as usize) < records {
        let dangles = i % DANGLING_EVERY == DANGLING_EVERY / 2 || (seq as usize) + 1 == records;
        if dangles {
            let e = event(i, AuditAction::Create);
            dangling.insert((e.app.clone(), e.key.clone()));
            write(e, &mut prev, &mut seq);
        } else {
            let action = if i % 3 == 0 {
                AuditAction::Create
            } else {
                AuditAction::Update
            };
            let e = event(i, action);
            let done = e.to_outcome(Some(format!("{}", 1000 + i)), Outcome::Ok);
            write(e, &mut prev, &mut seq);
            if action == AuditAction::Create {
                // Saved to the inventory: a later update of the same key.
                write(done, &mut prev, &mut seq);
                write(event(i, AuditAction::Update), &mut prev, &mut seq);
                let e = event(i, AuditAction::Update);
                write(
                    e.to_outcome(Some(format!("{}", 1000 + i)), Outcome::Ok),
                    &mut prev,
                    &mut seq,
                );
            } else {
                write(done, &mut prev, &mut seq);
            }
        }
        i += 1;
    }
    out.flush().expect("flush");
    drop(out);
    head::write(&head::head_path(&path), &Head { seq, hash: prev }).expect("head");
    (path, seq, dangling)
}

fn timed(path: &Path) -> (Duration, Lookup) {
    let started = Instant::now();
    let lookup = recovery::lookup(path).expect("lookup");
    (started.elapsed(), lookup)
}

fn median(path: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let (t, l) = timed(path);
            assert!(l.from_index && l.records_read == 0, "{l:?}");
            t
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let small = size("MORTAR_BENCH_SMALL", 1_000, 1_000);
    let large = size("MORTAR_BENCH_LARGE", 1_000_000, 20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    println!("recovery: dangling-create lookup, {small} vs {large} audit records");

    let mut indexed = Vec::new();
    for records in [small, large] {
        let started = Instant::now();
        let (path, written_records, expected) = write_log(dir.path(), records);
        let written = started.elapsed();
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let (first, lookup) = timed(&path);
        assert!(!lookup.from_index);
        assert_eq!(lookup.records_read, written_records);
        assert_eq!(lookup.dangling, expected, "{records} records");
        let again = median(&path);
        println!(
            "  {records:>9} records ({:.1} MiB, written in {:.1} s): first read (builds the index) {}, indexed lookup {} (median of {RUNS})",
            bytes as f64 / (1 << 20) as f64,
            written.as_secs_f64(),
            ms(first),
            ms(again)
        );
        indexed.push((records, path, again, first));
    }
    let (_, _, small_t, _) = &indexed[0];
    let (_, large_path, large_t, large_first) = &indexed[1];
    println!(
        "  indexed lookup, {large} vs {small} records: {:.2}x (a full read each time would be about {:.0}x; the index saves {:.0}x at {large})",
        large_t.as_secs_f64() / small_t.as_secs_f64().max(1e-9),
        large as f64 / small as f64,
        large_first.as_secs_f64() / large_t.as_secs_f64().max(1e-9),
    );

    // 100 records appended since the index was kept: only they are read.
    {
        let log = AuditLog::open(large_path).expect("open");
        for i in 0..50 {
            let e = event(large + i, AuditAction::Update);
            log.append(&e).expect("append");
            log.append(&e.to_outcome(None, Outcome::Ok))
                .expect("append");
        }
    }
    let (after, lookup) = timed(large_path);
    assert!(lookup.from_index);
    assert_eq!(lookup.records_read, 100);
    println!(
        "  after 100 new records at {large}: {} ({:.2}x the indexed lookup)",
        ms(after),
        after.as_secs_f64() / large_t.as_secs_f64().max(1e-9)
    );
    if let Some(rss) = peak_rss_mib() {
        println!("  peak RSS {rss:.1} MiB (the log is read in chunks, never whole)");
    }
}
