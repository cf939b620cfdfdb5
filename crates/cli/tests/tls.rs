//! HTTPS: a server with a certificate of a private CA made here, and clients that trust that
//! CA through `STRATA_CA_FILE` (and refuse the server without it).

mod common;
use common::Server;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A CA and a certificate it signed for 127.0.0.1, written as PEM files into `dir`; returns
/// the paths of the CA certificate, the server certificate and its key.
fn private_ca(dir: &std::path::Path) -> [String; 3] {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let files = [
        ("ca.pem", ca.pem()),
        ("cert.pem", cert.pem()),
        ("key.pem", key.serialize_pem()),
    ];
    files.map(|(name, pem)| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    })
}

/// `strata ARGS...` against `server` with its key, trusting the CA in `ca`, with config and
/// data folders of its own under `dir`.
fn trusting(server: &Server, ca: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::BIN)
        .args(args)
        .env("STRATA_ENDPOINT", &server.endpoint)
        .env("STRATA_TOKEN", server.token())
        .env("STRATA_CA_FILE", ca)
        .env("STRATA_CONFIG_DIR", dir.join("config"))
        .env("STRATA_DATA_DIR", dir.join("no-local-server"))
        .output()
        .unwrap()
}

#[test]
fn the_server_speaks_https_to_clients_that_trust_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let [ca, cert, key] = private_ca(dir.path());
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key]);
    assert!(server.endpoint.starts_with("https://127.0.0.1:"), "{}", server.endpoint);

    // Without the CA, the client refuses the server: it cannot be told from an impostor.
    let (code, err) = server.fails(&["volume", "list"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("certificate"), "{err}");

    let with_ca = |args: &[&str]| {
        let out = trusting(&server, &ca, dir.path(), args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = with_ca(&["volume", "create", "v"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = with_ca(&["volume", "list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("v "), "{out}");

    // Plain HTTP to the TLS port gets no answer it could take for the API's.
    let plain = server.endpoint.replace("https://", "http://");
    let out = std::process::Command::new(common::BIN)
        .args(["--endpoint", &plain, "volume", "list"])
        .env("STRATA_TOKEN", server.token())
        .env("STRATA_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(!out.status.success());

    // A CA file that is not one is named in a clear error.
    std::fs::write(dir.path().join("junk.pem"), "not a certificate").unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["volume", "list"])
        .env("STRATA_ENDPOINT", &server.endpoint)
        .env("STRATA_CA_FILE", dir.path().join("junk.pem"))
        .env("STRATA_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.pem"));
}

/// A server with a private CA runs sandboxes when told the CA (`--tls-ca`): their volumes'
/// mounts trust it, whatever the server's own environment holds; without it, a sandbox with a
/// volume is refused, naming the certificate.
#[test]
fn sandboxes_of_a_server_with_a_private_ca_mount_their_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let [ca, cert, key] = private_ca(dir.path());
    let run = |server: &Server, args: &[&str]| trusting(server, &ca, dir.path(), args);
    let told = Server::start(&["--tls-cert", &cert, "--tls-key", &key, "--tls-ca", &ca]);
    assert!(run(&told, &["volume", "create", "v"]).status.success());
    let created = run(&told, &["sandbox", "create", "--volume", "v:/data"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let id = String::from_utf8(created.stdout).unwrap();
    let wrote = run(&told, &["sandbox", "exec", id.trim(), "echo safe > /data/f"]);
    assert!(wrote.status.success(), "{}", String::from_utf8_lossy(&wrote.stderr));
    assert_eq!(run(&told, &["fs", "cat", "v:/f"]).stdout, b"safe\n");
    assert!(run(&told, &["sandbox", "delete", id.trim()]).status.success());

    let untold = Server::start(&["--tls-cert", &cert, "--tls-key", &key]);
    assert!(run(&untold, &["volume", "create", "v"]).status.success());
    let refused = run(&untold, &["sandbox", "create", "--volume", "v:/data"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(6), "{err}");
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(run(&untold, &["sandbox", "list", "--json"]).stdout, b"[]\n");
}
