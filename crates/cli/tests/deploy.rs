//! The files in deploy/: the systemd unit verifies, and every `strata server` command line
//! they hold is accepted by the binary.

mod common;
use common::BIN;
use std::process::Command;

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../deploy/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Runs `strata ARGS... --help`: clap checks every option and value before it prints help,
/// so success means the command line would start a server.
fn accepted(args: &[String]) -> Result<(), String> {
    let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_systemd_unit_verifies_and_its_command_line_is_accepted() {
    let unit = deploy_file("strata-server.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has an ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/strata"));
    let dir = tempfile::tempdir().unwrap();
    // systemd sets STATE_DIRECTORY to the folder StateDirectory= made.
    let args: Vec<String> = words
        .map(|w| w.replace("${STATE_DIRECTORY}", dir.path().to_str().unwrap()))
        .collect();
    assert_eq!(args.first().map(String::as_str), Some("server"));
    assert!(args.iter().any(|a| a == "--data-dir"), "{exec}");
    accepted(&args).unwrap();
    for hardening in [
        "DynamicUser=yes",
        "StateDirectory=strata",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ] {
        assert!(unit.lines().any(|l| l == hardening), "{hardening}");
    }

    // The unit as installed, with the binary where it says: no warning, no error.
    let unit_file = dir.path().join("strata-server.service");
    std::fs::write(&unit_file, unit.replace("/usr/local/bin/strata", BIN)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit_file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "systemd-analyze: {said}"
    );

    // A mistake in the unit is caught: the check can fail.
    std::fs::write(&unit_file, unit.replace("/usr/local/bin/strata", "/nonexistent/strata")).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The JSON array of a Dockerfile instruction (`ENTRYPOINT ["a", "b"]`) in one stage.
fn exec_form(stage: &str, instruction: &str) -> Vec<String> {
    let line = stage
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{instruction} ")))
        .unwrap_or_else(|| panic!("no {instruction} in the stage"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{instruction} {line}: {e}"))
}

#[test]
fn the_server_image_runs_an_accepted_strata_server() {
    let dockerfile = deploy_file("Dockerfile");
    let stages: Vec<&str> = dockerfile.split("\nFROM ").collect();
    let stage = |name: &str| {
        stages
            .iter()
            .find(|s| s.lines().next().is_some_and(|l| l.ends_with(&format!(" AS {name}"))))
            .unwrap_or_else(|| panic!("no stage {name}"))
            .to_string()
    };
    let server = stage("server");
    let mut command = exec_form(&server, "ENTRYPOINT");
    command.extend(exec_form(&server, "CMD"));
    assert_eq!(command[..2], ["strata", "server"]);
    let listen = command
        .iter()
        .position(|a| a == "--listen")
        .map(|i| &command[i + 1])
        .unwrap();
    let port = listen.rsplit(':').next().unwrap();
    assert!(
        server.lines().any(|l| l == format!("EXPOSE {port}")),
        "EXPOSE matches --listen"
    );
    let data = command
        .iter()
        .position(|a| a == "--data-dir")
        .map(|i| &command[i + 1])
        .unwrap();
    assert!(
        server.lines().any(|l| l == format!("VOLUME {data}")),
        "the data folder is a volume"
    );
    assert!(server.lines().any(|l| l.starts_with("USER ") && l != "USER root"));
    accepted(&command[1..]).unwrap();
    assert!(
        accepted(&["server".into(), "--no-such-flag".into()]).is_err(),
        "the check can fail"
    );

    let sandbox = stage("sandbox");
    assert!(sandbox.contains(" fuse3"), "the sandbox image has FUSE");
    for image in [&server, &sandbox] {
        assert!(image.contains("COPY --from=build /src/target/release/strata /usr/local/bin/strata"));
    }
}
