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

/// The subcommands a help page lists.
fn subcommands(help: &str) -> Vec<String> {
    help.split("\nCommands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|c| *c != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_argument_and_option_is_described() {
    let mut pending = vec![Vec::<String>::new()];
    let mut checked = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = String::from_utf8(strata(&args).stdout).unwrap();
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.starts_with("  <") || line.starts_with("  -")) {
                continue;
            }
            let spec_end = line.trim_start().find("  ").map(|i| i + 2);
            let inline = spec_end.is_some_and(|at| !line.trim_start()[at..].trim().is_empty());
            // With long descriptions, clap puts each on the lines below its argument.
            let below = lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("          ") && !next.trim().is_empty());
            assert!(
                inline || below,
                "strata {}: `{}` has no description",
                path.join(" "),
                line.trim()
            );
        }
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        checked += 1;
    }
    assert!(checked > 25, "walked {checked} help pages");
    let help = String::from_utf8(strata(&["volume", "create", "--help"]).stdout).unwrap();
    assert!(help.contains("1 to 63 characters"), "the naming rules: {help}");
}
