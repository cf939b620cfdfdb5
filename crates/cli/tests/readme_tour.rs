//! The README's quick tour, run as written: every `sh` block of its "A quick tour" section,
//! in order, against a real server (mount points moved under a temporary folder).

mod common;
use common::{BIN, Server};
use std::process::Command;

/// Every `sh` block of the README's section with this heading, in order.
fn section_script(heading: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has a section {heading}"));
    let section = section.split("\n## ").next().unwrap();
    let mut script = String::new();
    for block in section.split("```sh\n").skip(1) {
        script.push_str(block.split("```").next().unwrap());
    }
    script
}

/// The tour, then the scoped-token example, which works on the tour's volume.
fn tour_script() -> String {
    let tour = section_script("A quick tour");
    assert!(tour.lines().count() > 20, "the tour has its commands:\n{tour}");
    let tokens = section_script("Organizations, keys and scoped tokens");
    let token_example = tokens
        .split_inclusive('\n')
        .skip_while(|line| !line.starts_with("strata fs mkdir -p work:/users/alice"))
        .collect::<String>();
    assert!(token_example.contains("strata token create"), "{tokens}");
    tour + &token_example
}

#[test]
fn the_readme_tour_runs_as_written() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    let script = tour_script().replace("/mnt/", &format!("{}/mnt/", work.path().display()));
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(work.path())
        .env("PATH", path)
        .env("STRATA_ENDPOINT", &server.endpoint)
        .env("STRATA_TOKEN", server.token())
        .env("STRATA_CONFIG_DIR", work.path().join("config"))
        .env("STRATA_DATA_DIR", work.path().join("no-local-server"))
        .output()
        .unwrap();
    for dir in ["work", "try", "old", "then", "alice"] {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(work.path().join("mnt").join(dir))
            .status();
    }
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "the tour failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("first notes\n"), "fs cat shows the note:\n{stdout}");
    assert!(
        stdout.contains("M /notes.txt\n- /src\n"),
        "diff as the README says:\n{stdout}"
    );
    assert!(
        stdout.matches("- /src\n").count() >= 2,
        "the diff of a moment shows the folder removed since:\n{stdout}"
    );
    assert_eq!(std::fs::read(work.path().join("back.rs")).unwrap(), b"fn main() {}\n");
    assert_eq!(
        std::fs::read(work.path().join("src-copy/hello.txt")).unwrap(),
        b"hello\n"
    );
    assert!(
        stdout.contains("ok    server: "),
        "doctor checked the server:\n{stdout}"
    );
}
