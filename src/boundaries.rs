//! The architecture invariants of docs/ARCHITECTURE.md, checked against the source text, so that a boundary the
//! documentation states cannot quietly stop being true.
//!
//! The checks read `src/` as text: they look for the names a forbidden dependency has to be spelled with (`tonic`,
//! `prost`, `pb::`, `sqlx`, `Utc::now`), outside comments.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The concepts: directories of `src/` with a `mod.rs`.
fn concepts() -> Vec<String> {
    let mut concepts: Vec<String> = fs::read_dir(src())
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            path.join("mod.rs").exists().then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        })
        .filter(|name| name != "database")
        .collect();
    concepts.sort();
    concepts
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, by its path relative to `src/`.
fn files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.strip_prefix(src()).unwrap().to_string_lossy().into_owned();
                out.insert(name, code_of(&fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &mut out);
    out
}

/// The text without comments and without the `#[cfg(test)]` module at the end of a file (tests may build what they
/// check with anything).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files among `files` that mention any of `needles`, with the needle found.
fn offenders<'a>(
    files: &'a BTreeMap<String, String>,
    which: impl Fn(&str) -> bool,
    needles: &[&str],
) -> Vec<(&'a str, String)> {
    files
        .iter()
        .filter(|(name, _)| which(name))
        .filter_map(|(name, text)| {
            needles.iter().find(|n| text.contains(**n)).map(|n| (name.as_str(), (*n).to_owned()))
        })
        .collect()
}

fn in_concept(name: &str, file: &str) -> bool {
    name.split_once('/').is_some_and(|(dir, rest)| rest == file && concepts().iter().any(|c| c == dir))
}

/// What asking the clock for the date or the time has to be named with.
const CLOCK_READS: &[&str] = &["clock::today", "clock::now", "today()"];

/// What gRPC and protobuf have to be named with.
const WIRE: &[&str] = &["tonic", "prost", "pb::", "proto::v1", "crate::proto"];

#[test]
fn domain_modules_know_neither_the_wire_nor_the_store() {
    let files = files();
    let found = offenders(&files, |name| in_concept(name, "mod.rs"), WIRE);
    assert!(found.is_empty(), "Architecture invariant: a concept's mod.rs is free of tonic and protobuf: {found:?}");
    let found = offenders(&files, |name| in_concept(name, "mod.rs"), &["sqlx"]);
    assert!(found.is_empty(), "Architecture invariant: a concept's mod.rs is free of sqlx: {found:?}");
    let found = offenders(&files, |name| in_concept(name, "mod.rs") || in_concept(name, "store.rs"), CLOCK_READS);
    assert!(found.is_empty(), "Architecture invariant: rules and stores are given the date, never ask: {found:?}");
}

#[test]
fn stores_and_services_do_not_know_the_wire() {
    let files = files();
    let found = offenders(&files, |name| in_concept(name, "store.rs") || in_concept(name, "service.rs"), WIRE);
    assert!(found.is_empty(), "Architecture invariant: store.rs and service.rs never see a protobuf type: {found:?}");
}

#[test]
fn only_the_clock_module_reads_the_clock() {
    let files = files();
    let found = offenders(
        &files,
        |name| name != "clock.rs" && name != "boundaries.rs",
        &["Utc::now", "Local::now", "SystemTime::now", "chrono::Local", "OffsetDateTime::now"],
    );
    assert!(found.is_empty(), "Architecture invariant: only clock.rs reads the calendar clock: {found:?}");
}

#[test]
fn a_grpc_module_calls_no_other_concepts_grpc_module_and_decides_no_rule() {
    let files = files();
    for concept in concepts() {
        let name = format!("{concept}/grpc.rs");
        let Some(text) = files.get(&name) else { continue };
        for other in concepts().iter().filter(|c| **c != concept) {
            assert!(
                !text.contains(&format!("{other}::grpc")),
                "Architecture invariant: {name} calls {other}'s service, never its grpc.rs"
            );
        }
        let rule_ids: BTreeSet<&str> = text
            .match_indices("\"R")
            .filter_map(|(at, _)| {
                let rest = &text[at + 1..];
                let end = rest[1..].find('"')? + 1;
                let id = &rest[..end];
                (id.len() > 1 && id[1..].chars().all(|c| c.is_ascii_digit() || c == '.')).then_some(id)
            })
            .collect();
        assert!(rule_ids.is_empty(), "Architecture invariant: {name} decides no rule, yet names {rule_ids:?}");
    }
}

#[test]
fn nothing_but_the_binary_imports_the_module_that_assembles_the_server() {
    let files = files();
    let found = offenders(
        &files,
        |name| !matches!(name, "app.rs" | "main.rs" | "boundaries.rs"),
        &["crate::app", "lindung::app", "app::{", "app::App"],
    );
    assert!(found.is_empty(), "Architecture invariant: only main.rs uses app.rs (no import cycle): {found:?}");
}

#[test]
fn every_change_goes_through_the_unit_of_work() {
    let files = files();
    let found = offenders(
        &files,
        |name| in_concept(name, "grpc.rs") || in_concept(name, "service.rs"),
        &["pool.begin()", "audit::store::record"],
    );
    assert!(
        found.is_empty(),
        "Architecture invariant: changes and audited reads are written through state::Write / state::Read: {found:?}"
    );
}
