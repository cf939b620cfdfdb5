//! The command line itself: version, shell completions.

mod common;
use common::BIN;
use std::process::Command;

fn strata(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn version_names_the_commit() {
    let out = strata(&["--version"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let commit = text
        .trim()
        .rsplit_once('(')
        .map(|(_, c)| c.trim_end_matches(')'))
        .unwrap_or("");
    assert!(
        commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{text}"
    );
}

#[test]
fn completions_are_valid_scripts() {
    let out = strata(&["completions", "bash"]);
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("snapshot") && script.contains("--read-only"),
        "every command is in it"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strata.bash");
    std::fs::write(&file, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).status().unwrap();
    assert!(checked.success(), "bash parses it");
    for shell in ["zsh", "fish"] {
        assert!(strata(&["completions", shell]).status.success(), "{shell}");
    }
    let out = strata(&["completions", "nosh"]);
    assert_eq!(out.status.code(), Some(2));
}
