//! Publishing to and installing from a real OCI registry (Debian's `docker-registry`, the
//! CNCF distribution server) on loopback, with `skopeo` as an independent client.
//! `scripts/test.sh` installs both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Env, repo_root};

/// A `docker-registry` on a free loopback port, stopped on drop.
pub struct TestRegistry {
    child: Child,
    pub host: String,
    pub dir: tempfile::TempDir,
}

impl TestRegistry {
    /// `htpasswd`: `Some((user, password))` requires that login (bcrypt, as Docker does).
    pub fn start(htpasswd: Option<(&str, &str)>) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let auth = htpasswd.map(|(user, password)| {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) is installed by scripts/test.sh");
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
            format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            )
        });
        Self::start_in(dir, auth)
    }

    /// A registry that takes only bearer tokens from `realm`, signed by the key of the
    /// certificate `cert_pem` (Docker's token authentication).
    pub fn start_with_tokens(
        realm: &str,
        service: &str,
        issuer: &str,
        cert_pem: &str,
    ) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("token-issuer.pem");
        std::fs::write(&bundle, cert_pem).unwrap();
        let auth = format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            bundle.display()
        );
        Self::start_in(dir, Some(auth))
    }

    fn start_in(dir: tempfile::TempDir, auth: Option<String>) -> TestRegistry {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        config.push_str(auth.as_deref().unwrap_or_default());
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed by scripts/test.sh");
        let host = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&host).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        TestRegistry { child, host, dir }
    }

    /// The blob file the registry serves for `sha256:HEX`.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is installed by scripts/test.sh");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The bundled Rust example, built, as a project root `skill publish` takes.
fn rust_project() -> PathBuf {
    crate::rust_skill();
    repo_root().join("examples/rust-skill")
}

fn write_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    use sha2::Digest;
    let hex = hex::encode(sha2::Sha256::digest(bytes));
    let dir = layout.join("blobs/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// An OCI image layout directory holding one image manifest with this config and layer, as
/// another tool would write it (`skopeo copy oci:DIR …` pushes it).
fn oci_layout(dir: &Path, config_type: &str, config: &[u8], layer_type: &str, layer: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let (config_digest, config_size) = write_blob(dir, config);
    let (layer_digest, layer_size) = write_blob(dir, layer);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": config_type, "digest": config_digest, "size": config_size },
        "layers": [{ "mediaType": layer_type, "digest": layer_digest, "size": layer_size }],
    });
    let (manifest_digest, manifest_size) =
        write_blob(dir, serde_json::to_vec(&manifest).unwrap().as_slice());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn skill_list(env: &Env) -> String {
    env.skill(&["list", "--json"]).ok().to_string()
}

/// One registry, the whole path a user takes: publish (dry run, real, refused again),
/// install by name / requirement / digest, info, interop with skopeo both ways, and what a
/// broken or hostile registry does to an install (nothing).
#[test]
fn publish_install_and_interop_with_a_real_registry() {
    let registry = TestRegistry::start(None);
    let project = rust_project();
    let project = project.to_str().unwrap();
    let env = Env::new();
    let default = format!("{}/acme", registry.host);
    let with_registry =
        |args: &[&str]| env.skill_with_env(args, &[("SKILL_REGISTRY", default.as_ref())]);

    // --dry-run: what would go, and nothing goes.
    let plan = with_registry(&["publish", project, "--dry-run"]);
    let plan = plan.ok();
    assert!(
        plan.contains(&format!("oci://{default}/rust-skill:0.1.0")),
        "{plan}"
    );
    for expected in [
        "application/vnd.wasm.config.v0+json",
        "application/wasm",
        "component.wasm",
        "application/vnd.skill-engine.skill.v1+yaml",
        "application/vnd.skill-engine.manifest.v1+json",
        "application/vnd.skill-engine.skill-md.v1+markdown",
        "org.opencontainers.image.version = 0.1.0",
        "io.skill-engine.tools = greet,",
        "Nothing was pushed",
    ] {
        assert!(plan.contains(expected), "{expected} missing:\n{plan}");
    }
    let tags = with_registry(&["info", "rust-skill"]);
    assert_eq!(
        tags.code, 3,
        "nothing was pushed by --dry-run: {}",
        tags.stderr
    );

    // Published: NAME@VERSION and the digest, which skopeo (another client) agrees with.
    let published = with_registry(&["publish", project]);
    let line = published.ok().trim().to_string();
    let digest = line
        .strip_prefix("rust-skill@0.1.0 ")
        .expect(&line)
        .to_string();
    assert!(digest.starts_with("sha256:"), "{line}");
    let inspected = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{default}/rust-skill:0.1.0"),
    ]);
    assert_eq!(
        format!("sha256:{}", {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(inspected.as_bytes()))
        }),
        digest
    );
    // SKILL.md went as a layer of its own, byte for byte, named by its title annotation.
    let pushed: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    let skill_md = pushed["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["mediaType"] == "application/vnd.skill-engine.skill-md.v1+markdown")
        .expect("a SKILL.md layer");
    assert_eq!(
        skill_md["annotations"]["org.opencontainers.image.title"],
        "SKILL.md"
    );
    assert_eq!(
        std::fs::read(registry.blob_path(skill_md["digest"].as_str().unwrap())).unwrap(),
        std::fs::read(Path::new(project).join("SKILL.md")).unwrap()
    );
    let again = with_registry(&["publish", project]);
    assert_eq!(again.code, 7, "{}", again.stderr);
    assert!(again.fails().contains(&digest), "{}", again.stderr);

    // Install by name: the same review and commit as a local install, the source recorded.
    let installed = with_registry(&["install", "rust-skill", "--yes"]);
    installed.ok();
    assert_eq!(
        env.skill(&["run", "rust-skill:add", "a=2", "b=40"]).ok(),
        "42\n"
    );
    let info = env.skill(&["info", "rust-skill", "--json"]);
    let info: serde_json::Value = serde_json::from_str(info.ok()).unwrap();
    assert_eq!(
        info["origin"]["source"],
        format!("oci://{default}/rust-skill@{digest}")
    );
    assert_eq!(info["origin"]["requested"], "rust-skill");
    // Installed but damaged: info says so instead of showing what the registry has.
    let version_dir = std::fs::read_dir(env.home.path().join("skills/rust-skill"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("origin.json").exists())
        .unwrap();
    let origin = std::fs::read(version_dir.join("origin.json")).unwrap();
    std::fs::write(
        version_dir.join("origin.json"),
        b"{\"source\":\"./elsewhere\",\"requested\":\"x\"}",
    )
    .unwrap();
    let damaged = with_registry(&["info", "rust-skill"]);
    assert_eq!(damaged.code, 1, "{}", damaged.stderr);
    assert!(damaged.fails().contains("changed since it was installed"));
    std::fs::write(version_dir.join("origin.json"), origin).unwrap();
    // Remote info: versions and tools without downloading the component.
    let remote = with_registry(&["info", "rust-skill", "--remote", "--json"]);
    let remote: serde_json::Value = serde_json::from_str(remote.ok()).unwrap();
    assert_eq!(remote["versions"], serde_json::json!(["0.1.0"]));
    assert_eq!(remote["digest"], digest);
    assert!(remote["manifest"]["tools"].as_array().unwrap().len() >= 2);

    // Requirements: matching, and not matching (the versions there are named).
    with_registry(&["install", "rust-skill@^0.1", "--yes", "-i", "req"]).ok();
    let none = with_registry(&["install", "rust-skill@>=0.2", "--yes", "-i", "none"]);
    assert_eq!(none.code, 3);
    assert!(
        none.fails().contains("versions there: 0.1.0"),
        "{}",
        none.stderr
    );
    // By digest, with no registry setting at all.
    env.skill(&[
        "install",
        &format!("oci://{default}/rust-skill@{digest}"),
        "--yes",
        "-i",
        "pinned",
    ])
    .ok();
    let no_default = env.skill(&["install", "rust-skill", "--yes", "-i", "x"]);
    assert_eq!(no_default.code, 4, "{}", no_default.stderr);
    assert!(
        no_default.fails().contains("no registry is set"),
        "{}",
        no_default.stderr
    );

    // skopeo copies what we published to another repository; we install the copy.
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{default}/rust-skill:0.1.0"),
        &format!("docker://{}/mirror/rust-skill:0.1.0", registry.host),
    ]);
    let fresh = Env::new();
    fresh
        .skill(&[
            "install",
            &format!("oci://{}/mirror/rust-skill:0.1.0", registry.host),
            "--yes",
        ])
        .ok();
    assert_eq!(
        fresh.skill(&["run", "rust-skill:greet", "name=copy"]).ok(),
        "Hello, copy!\n"
    );

    // A plain Wasm artifact another tool pushed (no skill.yaml, no manifest.json): installed
    // from the component alone, asking for nothing.
    let component = std::fs::read(crate::rust_skill().join("rust-skill.wasm")).unwrap();
    let layout = env.path("plain-layout");
    oci_layout(
        &layout,
        "application/vnd.wasm.config.v0+json",
        br#"{"architecture":"wasm","os":"wasip2","layerDigests":[]}"#,
        "application/wasm",
        &component,
    );
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}", layout.display()),
        &format!("docker://{}/plain/rust-skill:0.1.0", registry.host),
    ]);
    let plain = Env::new();
    let run = plain.skill(&[
        "install",
        &format!("oci://{}/plain/rust-skill:0.1.0", registry.host),
        "--yes",
    ]);
    run.ok();
    assert!(run.stderr.contains("has no skill.yaml"), "{}", run.stderr);
    assert_eq!(
        plain.skill(&["run", "rust-skill:add", "a=1", "b=2"]).ok(),
        "3\n"
    );

    // A container image is not a skill: refused before any layer is downloaded.
    let image = env.path("image-layout");
    oci_layout(
        &image,
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        "application/vnd.oci.image.layer.v1.tar",
        b"not really a tarball",
    );
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}", image.display()),
        &format!("docker://{}/library/busybox:1.0.0", registry.host),
    ]);
    let before = skill_list(&fresh);
    let not_skill = fresh.skill(&[
        "install",
        &format!("oci://{}/library/busybox:1.0.0", registry.host),
        "--yes",
    ]);
    assert_eq!(not_skill.code, 2, "{}", not_skill.stderr);
    assert!(
        not_skill.fails().contains("is not a skill"),
        "{}",
        not_skill.stderr
    );

    // A blob changed in the registry's storage: refused, nothing installed, no debris.
    let manifest: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{}/mirror/rust-skill:0.1.0", registry.host),
    ]))
    .unwrap();
    let yaml_layer = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["mediaType"] == "application/vnd.skill-engine.skill.v1+yaml")
        .unwrap();
    let blob = registry.blob_path(yaml_layer["digest"].as_str().unwrap());
    let original = std::fs::read(&blob).unwrap();
    let mut tampered = original.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x20;
    std::fs::write(&blob, &tampered).unwrap();
    let mismatch = fresh.skill(&[
        "install",
        &format!("oci://{}/mirror/rust-skill:0.1.0", registry.host),
        "--yes",
        "-i",
        "tampered",
    ]);
    assert_eq!(mismatch.code, 1, "{}", mismatch.stderr);
    assert!(
        mismatch.fails().contains("does not match its digest"),
        "{}",
        mismatch.stderr
    );
    std::fs::write(&blob, &original).unwrap();
    assert_eq!(skill_list(&fresh), before, "the store is unchanged");
    assert!(
        !fresh
            .home
            .path()
            .join("instances/rust-skill/tampered")
            .exists(),
        "no instance was created"
    );

    // A registry that is not there: one clear error.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = fresh.skill(&[
        "install",
        &format!("oci://127.0.0.1:{gone}/acme/rust-skill"),
        "--yes",
    ]);
    assert_eq!(unreachable.code, 1);
    assert!(
        unreachable.fails().contains("cannot reach the registry"),
        "{}",
        unreachable.stderr
    );
}

/// A registry with htpasswd logins: anonymous is refused with a hint, a wrong password is not
/// stored, the right one is (sealed), Docker's config.json works too, logout forgets.
#[test]
fn registry_logins() {
    let registry = TestRegistry::start(Some(("alice", "s3cret-passw0rd")));
    let project = rust_project();
    let project = project.to_str().unwrap();
    let env = Env::new();
    let host = registry.host.as_str();
    let vars = [("SKILL_REGISTRY", host.as_ref())];

    let anonymous = env.skill_with_env(&["publish", project], &vars);
    assert_eq!(anonymous.code, 5, "{}", anonymous.stderr);
    assert!(
        anonymous.fails().contains("skill login"),
        "{}",
        anonymous.stderr
    );

    let wrong = env.skill_with_input(
        &["login", host, "-u", "alice", "--password-stdin"],
        "not-it\n",
    );
    assert_eq!(wrong.code, 5, "{}", wrong.stderr);
    assert!(!env.home.path().join("credentials").exists());

    env.skill_with_input(
        &["login", host, "-u", "alice", "--password-stdin"],
        "s3cret-passw0rd\n",
    )
    .ok();
    let sealed = std::fs::read(env.home.path().join("credentials")).unwrap();
    assert!(!sealed.windows(15).any(|w| w == b"s3cret-passw0rd"));
    env.skill_with_env(&["publish", project], &vars).ok();
    env.skill_with_env(&["install", "rust-skill", "--yes"], &vars)
        .ok();

    env.skill(&["logout", host]).ok();
    let after = env.skill_with_env(&["install", "rust-skill", "--yes", "-i", "two"], &vars);
    assert_eq!(after.code, 5, "{}", after.stderr);

    // Docker's config.json, as every OCI tool reads it.
    let docker = env.path("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret-passw0rd")
    };
    std::fs::write(
        docker.join("config.json"),
        serde_json::json!({ "auths": { host: { "auth": auth } } }).to_string(),
    )
    .unwrap();
    env.skill_with_env(
        &["install", "rust-skill", "--yes", "-i", "three"],
        &[
            ("SKILL_REGISTRY", host.as_ref()),
            ("DOCKER_CONFIG", docker.as_os_str()),
        ],
    )
    .ok();

    // A Docker credential helper (`credsStore`), run by the protocol: registry on stdin.
    let helpers = env.path("helpers");
    std::fs::create_dir_all(&helpers).unwrap();
    let helper = helpers.join("docker-credential-fake");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread registry\n[ \"$registry\" = \"{host}\" ] || exit 1\necho '{{\"Username\":\"alice\",\"Secret\":\"s3cret-passw0rd\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        docker.join("config.json"),
        serde_json::json!({ "credsStore": "fake" }).to_string(),
    )
    .unwrap();
    let path = std::env::join_paths(
        std::iter::once(helpers.clone()).chain(std::env::split_paths(&crate::path_with_skill())),
    )
    .unwrap();
    env.skill_with_env(
        &["install", "rust-skill", "--yes", "-i", "four"],
        &[
            ("SKILL_REGISTRY", host.as_ref()),
            ("DOCKER_CONFIG", docker.as_os_str()),
            ("PATH", path.as_os_str()),
        ],
    )
    .ok();
}

/// A token server as Docker Hub, ghcr.io and Harbor run one: the registry answers 401 with a
/// `Bearer realm=…,service=…,scope=…` challenge, the client asks the realm for a token (with
/// its login, or anonymously), and retries with it. Signed ES256 JWTs with the certificate in
/// `x5c`, checked by the real registry.
struct TokenServer {
    realm: String,
    cert_pem: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<crate::HttpRequest>>>,
}

const TOKEN_SERVICE: &str = "test-registry";
const TOKEN_ISSUER: &str = "test-token-issuer";

impl TokenServer {
    /// Grants `pull` to anyone and `push` to `user:password`; a wrong password gets a 401.
    fn start(user: &str, password: &str) -> TokenServer {
        use base64::Engine as _;
        use p256::ecdsa::signature::Signer as _;
        use p256::pkcs8::DecodePrivateKey as _;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![TOKEN_ISSUER.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let signer = p256::ecdsa::SigningKey::from_pkcs8_der(&key.serialize_der()).unwrap();
        let header = b64url.encode(
            serde_json::json!({
                "typ": "JWT",
                "alg": "ES256",
                "x5c": [base64::engine::general_purpose::STANDARD.encode(cert.der())],
            })
            .to_string(),
        );
        let login = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let (port, seen) = crate::serve_http(move |request, _| {
            let Some(query) = request.path.strip_prefix("/token?") else {
                return crate::HttpResponse::new(404, "not here");
            };
            let authorization = request.header("authorization");
            let logged_in = authorization == login;
            if !authorization.is_empty() && !logged_in {
                return crate::HttpResponse::new(401, r#"{"details":"bad credentials"}"#);
            }
            let mut access = Vec::new();
            for scope in query.split('&').filter_map(|p| p.strip_prefix("scope=")) {
                let scope = scope
                    .replace("%3A", ":")
                    .replace("%2F", "/")
                    .replace("%2C", ",");
                let mut parts = scope.splitn(3, ':');
                let (Some(kind), Some(name), Some(actions)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let granted: Vec<&str> = actions
                    .split(',')
                    .filter(|a| *a == "pull" || logged_in)
                    .collect();
                access.push(serde_json::json!({ "type": kind, "name": name, "actions": granted }));
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let claims = b64url.encode(
                serde_json::json!({
                    "iss": TOKEN_ISSUER,
                    "sub": if logged_in { "ci" } else { "" },
                    "aud": TOKEN_SERVICE,
                    "iat": now, "nbf": now - 10, "exp": now + 300,
                    "jti": format!("{now}-{}", access.len()),
                    "access": access,
                })
                .to_string(),
            );
            let signed = format!("{header}.{claims}");
            let signature: p256::ecdsa::Signature = signer.sign(signed.as_bytes());
            let token = format!("{signed}.{}", b64url.encode(signature.to_bytes()));
            crate::HttpResponse::new(
                200,
                &serde_json::json!({ "token": token, "access_token": token, "expires_in": 300 })
                    .to_string(),
            )
            .header("content-type", "application/json")
        });
        TokenServer {
            realm: format!("http://127.0.0.1:{port}/token"),
            cert_pem: cert.pem(),
            seen,
        }
    }

    /// The (service, scope, logged in) of every token request so far.
    fn requests(&self) -> Vec<(String, String, bool)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                let param = |name: &str| {
                    r.path
                        .split(['?', '&'])
                        .filter_map(|p| p.strip_prefix(name))
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace("%3A", ":")
                        .replace("%2F", "/")
                        .replace("%2C", ",")
                };
                (
                    param("service="),
                    param("scope="),
                    !r.header("authorization").is_empty(),
                )
            })
            .collect()
    }
}

/// Bearer-token exchange with a real registry and a token server: publish with a login (the
/// token for push asked with it), install anonymously (a pull token asked without), a wrong
/// password refused and not stored, an anonymous push refused with the login hint.
#[test]
fn bearer_tokens_from_the_registrys_token_server() {
    let tokens = TokenServer::start("ci", "t0ken-passw0rd");
    let registry = TestRegistry::start_with_tokens(
        &tokens.realm,
        TOKEN_SERVICE,
        TOKEN_ISSUER,
        &tokens.cert_pem,
    );
    let host = registry.host.as_str();
    let default = format!("{host}/acme");
    let vars = [("SKILL_REGISTRY", default.as_ref())];
    crate::misbehave();
    let project = repo_root().join("toolchain/cli/tests/fixtures/misbehave");
    let project = project.to_str().unwrap();

    let publisher = Env::new();
    let anonymous = publisher.skill_with_env(&["publish", project], &vars);
    assert_eq!(anonymous.code, 5, "{}", anonymous.stderr);
    assert!(
        anonymous.fails().contains("skill login"),
        "{}",
        anonymous.stderr
    );
    let wrong =
        publisher.skill_with_input(&["login", host, "-u", "ci", "--password-stdin"], "not-it\n");
    assert_eq!(wrong.code, 5, "{}", wrong.stderr);
    assert!(!publisher.home.path().join("credentials").exists());
    publisher
        .skill_with_input(
            &["login", host, "-u", "ci", "--password-stdin"],
            "t0ken-passw0rd\n",
        )
        .ok();
    publisher.skill_with_env(&["publish", project], &vars).ok();

    // Anyone may pull: by requirement (the tag list needs a token too) and run.
    let user = Env::new();
    user.skill_with_env(&["install", "misbehave@^0", "--yes"], &vars)
        .ok();
    let hello = user.skill_with_env(&["run", "misbehave:echo", "text=hi"], &vars);
    assert_eq!(hello.ok(), "hi\n");

    let requests = tokens.requests();
    assert!(
        requests
            .iter()
            .all(|(service, _, _)| service == TOKEN_SERVICE),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|(_, scope, login)| *login
            && scope.contains("repository:acme/misbehave:")
            && scope.contains("push")),
        "the push token was asked with the login: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|(_, scope, login)| !*login && scope == "repository:acme/misbehave:pull"),
        "the anonymous pull asked for a pull token: {requests:?}"
    );
}

/// cosign-style signatures: signed with a trusted key installs; the wrong key, no signature,
/// or a tag moved to another manifest is refused before any download; --allow-unsigned
/// installs with a warning.
#[test]
fn signatures_and_trust_policy() {
    let registry = TestRegistry::start(None);
    let project = rust_project();
    let project = project.to_str().unwrap();
    let env = Env::new();
    let scope = format!("{}/acme", registry.host);
    let vars = [("SKILL_REGISTRY", scope.as_ref())];
    let keys = env.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let keys_dir = keys.to_str().unwrap();
    env.skill(&["key", "generate", "release", "-o", keys_dir])
        .ok();
    env.skill(&["key", "generate", "stranger", "-o", keys_dir])
        .ok();
    assert_eq!(
        env.skill(&["key", "generate", "release"]).code,
        7,
        "never replaced"
    );
    let private = std::fs::read(env.home.path().join("keys/release.key")).unwrap();
    assert!(
        !String::from_utf8_lossy(&private).contains("PRIVATE KEY"),
        "sealed at rest"
    );

    let published = env.skill_with_env(&["publish", project, "--sign", "release"], &vars);
    assert!(published.stderr.contains("Signed"), "{}", published.stderr);
    let digest = published
        .ok()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    // Stored where cosign looks: the sha256-<hex>.sig tag of the same repository.
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    let sig = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{scope}/rust-skill:{sig_tag}"),
    ]);
    assert!(sig.contains("dev.cosignproject.cosign/signature"), "{sig}");

    let release_pub = format!("{keys_dir}/release.pub");
    let stranger_pub = format!("{keys_dir}/stranger.pub");
    env.skill(&["trust", "add", &scope, &release_pub]).ok();
    let trusted = env.skill_with_env(&["install", "rust-skill", "--yes"], &vars);
    trusted.ok();
    assert!(
        trusted.stderr.contains("signed by `release`"),
        "{}",
        trusted.stderr
    );

    // Another key trusted instead: refused, and --allow-unsigned says what it risks.
    env.skill(&["trust", "remove", &scope]).ok();
    env.skill(&["trust", "add", &scope, &stranger_pub]).ok();
    let wrong = env.skill_with_env(&["install", "rust-skill", "--yes", "-i", "wrong"], &vars);
    assert_eq!(wrong.code, 5, "{}", wrong.stderr);
    assert!(
        wrong
            .fails()
            .contains("no valid signature by a trusted key")
    );
    let risky = env.skill_with_env(
        &[
            "install",
            "rust-skill",
            "--yes",
            "-i",
            "risky",
            "--allow-unsigned",
        ],
        &vars,
    );
    risky.ok();
    assert!(
        risky.stderr.contains("nobody you trust vouched"),
        "{}",
        risky.stderr
    );

    // The tag moved to another manifest (here: the plain component pushed over it): the
    // signature names the old digest, so the new one is unsigned.
    env.skill(&["trust", "add", &scope, &release_pub]).ok();
    let component = std::fs::read(crate::rust_skill().join("rust-skill.wasm")).unwrap();
    let layout = env.path("moved");
    oci_layout(
        &layout,
        "application/vnd.wasm.config.v0+json",
        br#"{"architecture":"wasm","os":"wasip2"}"#,
        "application/wasm",
        &component,
    );
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}", layout.display()),
        &format!("docker://{scope}/rust-skill:0.1.0"),
    ]);
    let before = skill_list(&env);
    let moved = env.skill_with_env(&["install", "rust-skill", "--yes", "-i", "moved"], &vars);
    assert_eq!(moved.code, 5, "{}", moved.stderr);
    assert!(moved.fails().contains("is not signed"), "{}", moved.stderr);
    assert_eq!(skill_list(&env), before);
    // The signed digest itself still installs, by digest.
    env.skill(&[
        "install",
        &format!("oci://{scope}/rust-skill@{digest}"),
        "--yes",
        "-i",
        "pinned",
    ])
    .ok();
    // The same skill from another repository (a copy nobody signed) does not silently
    // replace the one installed from the governed scope; --replace says so explicitly.
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{scope}/rust-skill@{digest}"),
        &format!("docker://{}/evil/rust-skill:0.1.0", registry.host),
    ]);
    let other = format!("oci://{}/evil/rust-skill:0.1.0", registry.host);
    let swapped = env.skill(&["install", &other, "--yes", "-i", "pinned"]);
    assert_eq!(swapped.code, 7, "{}", swapped.stderr);
    assert!(
        swapped.fails().contains("is another source"),
        "{}",
        swapped.stderr
    );
    // One spelling per repository: `..` cannot walk into the governed scope.
    let dotted = env.skill(&[
        "install",
        &format!("oci://{}/x/../acme/rust-skill:0.1.0", registry.host),
        "--yes",
    ]);
    assert_eq!(dotted.code, 2, "{}", dotted.stderr);
    // A directory named like the reference in the working directory is not what installs.
    let planted = env.path(&format!("oci:/{scope}/rust-skill@{digest}"));
    std::fs::create_dir_all(&planted).unwrap();
    for file in ["rust-skill.wasm", "skill.yaml"] {
        std::fs::copy(crate::rust_skill().join(file), planted.join(file)).unwrap();
    }
    let remote = env.skill(&[
        "install",
        &format!("oci://{scope}/rust-skill@{digest}"),
        "--yes",
        "-i",
        "pinned",
    ]);
    assert!(remote.ok().is_empty());
    assert!(
        remote.stderr.contains("signed by `release`"),
        "{}",
        remote.stderr
    );
    let listed = env.skill(&["trust", "list"]);
    assert!(listed.ok().contains(&scope), "{}", listed.stdout);
}

/// A copy of the Rust example at another version, built.
fn rust_project_at(env: &Env, version: &str) -> PathBuf {
    let from = rust_project();
    let to = env.path(&format!("rust-skill-{version}"));
    std::fs::create_dir_all(to.join("src")).unwrap();
    for file in ["Cargo.lock", "skill.lock", "src/lib.rs"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    let sdk = repo_root().join("sdk-rust");
    let cargo = std::fs::read_to_string(from.join("Cargo.toml"))
        .unwrap()
        .replace("version = \"0.1.0\"", &format!("version = \"{version}\""))
        .replace("../../sdk-rust", sdk.to_str().unwrap());
    std::fs::write(to.join("Cargo.toml"), cargo).unwrap();
    let yaml = std::fs::read_to_string(from.join("skill.yaml"))
        .unwrap()
        .replace("version: 0.1.0", &format!("version: {version}"));
    std::fs::write(to.join("skill.yaml"), yaml).unwrap();
    // Its own cargo target directory: cargo keeps one `rust_skill.wasm` per target directory,
    // and a build of the other version would leave this one's output stale (or the reverse).
    let target = crate::guest_target_dir().with_file_name(format!("guests-rust-skill-{version}"));
    env.skill_with_env(
        &["build", to.to_str().unwrap()],
        &[("CARGO_TARGET_DIR", target.as_os_str())],
    )
    .ok();
    to
}

fn installed_version(env: &Env) -> String {
    let list: serde_json::Value = serde_json::from_str(&skill_list(env)).unwrap();
    list[0]["version"].as_str().unwrap().to_string()
}

/// update follows the requirement recorded at install, rollback returns, prune frees.
#[test]
fn update_rollback_and_prune() {
    let registry = TestRegistry::start(None);
    let env = Env::new();
    let default = format!("{}/acme", registry.host);
    let vars = [("SKILL_REGISTRY", default.as_ref())];
    env.skill_with_env(&["publish", rust_project().to_str().unwrap()], &vars)
        .ok();
    env.skill_with_env(&["install", "rust-skill", "--yes", "-i", "prod"], &vars)
        .ok();
    let fresh = env.skill_with_env(&["update", "rust-skill"], &vars);
    assert!(fresh.ok().is_empty());
    assert!(fresh.stderr.contains("Fresh"), "{}", fresh.stderr);

    let v2 = rust_project_at(&env, "0.2.0");
    env.skill_with_env(&["publish", v2.to_str().unwrap()], &vars)
        .ok();
    env.skill_with_env(&["update", "--all", "--yes"], &vars)
        .ok();
    assert_eq!(installed_version(&env), "0.2.0");
    assert!(
        !env.home
            .path()
            .join("instances/rust-skill/default")
            .exists(),
        "the existing instance was updated, no new one made"
    );
    assert_eq!(
        env.skill(&["run", "rust-skill@prod:add", "a=1", "b=1"])
            .ok(),
        "2\n"
    );

    env.skill(&["rollback", "rust-skill"]).ok();
    assert_eq!(installed_version(&env), "0.1.0");
    let dry = env.skill(&["prune", "--dry-run", "--json"]);
    let dry: serde_json::Value = serde_json::from_str(dry.ok()).unwrap();
    assert_eq!(dry["removed"].as_array().unwrap().len(), 1, "{dry}");
    assert!(dry["freed"].as_u64().unwrap() > 10_000);
    env.skill(&["prune"]).ok();
    let none = env.skill(&["rollback", "rust-skill"]);
    assert_eq!(none.code, 3, "{}", none.stderr);
    assert_eq!(installed_version(&env), "0.1.0");

    // Yanked: new resolutions skip 0.2.0, an explicit tag still gets it, --undo restores.
    let remote_tag = |env: &Env| {
        let info = env.skill_with_env(&["info", "rust-skill", "--remote", "--json"], &vars);
        let info: serde_json::Value = serde_json::from_str(info.ok()).unwrap();
        (
            info["tag"].as_str().unwrap().to_string(),
            info["yanked"].clone(),
        )
    };
    assert_eq!(remote_tag(&env).0, "0.2.0");
    env.skill_with_env(&["yank", "rust-skill@0.2.0"], &vars)
        .ok();
    assert_eq!(
        remote_tag(&env),
        ("0.1.0".to_string(), serde_json::json!(["0.2.0"]))
    );
    let only_yanked =
        env.skill_with_env(&["install", "rust-skill@^0.2", "--yes", "-i", "y"], &vars);
    assert_eq!(only_yanked.code, 3, "{}", only_yanked.stderr);
    assert!(
        only_yanked.fails().contains("yanked"),
        "{}",
        only_yanked.stderr
    );
    env.skill(&[
        "pull-run",
        &format!("oci://{default}/rust-skill:0.2.0"),
        "greet",
        "name=yanked",
        "--yes",
    ])
    .ok();
    env.skill_with_env(&["yank", "rust-skill@0.2.0", "--undo"], &vars)
        .ok();
    assert_eq!(remote_tag(&env).0, "0.2.0");

    // Pinned to an exact version: update stays there.
    env.skill_with_env(
        &["install", "rust-skill@0.1.0", "--yes", "-i", "prod"],
        &vars,
    )
    .ok();
    env.skill_with_env(&["update", "rust-skill"], &vars).ok();
    assert_eq!(installed_version(&env), "0.1.0");
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if kind.is_file()
            && std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        {
            found.push(path);
        }
    }
    found
}

/// pull-run: reviewed, run in a throwaway instance, cached by digest, nothing installed, and a
/// secret given with --config is never written anywhere under $SKILL_HOME.
#[test]
fn pull_run_installs_nothing_and_writes_no_secret() {
    let registry = TestRegistry::start(None);
    let env = Env::new();
    crate::misbehave();
    let project = repo_root().join("toolchain/cli/tests/fixtures/misbehave");
    let default = format!("{}/acme", registry.host);
    let vars = [("SKILL_REGISTRY", default.as_ref())];
    env.skill_with_env(&["publish", project.to_str().unwrap()], &vars)
        .ok();

    // It asks for an environment variable: without a terminal or --yes, nothing runs.
    let refused = env.skill_with_env(&["pull-run", "misbehave", "echo", "text=hi"], &vars);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("MISBEHAVE_GRANTED"),
        "{}",
        refused.stderr
    );

    let sentinel = "pull-run-secret-5f3a9c17";
    let config = format!("token={sentinel}");
    let cold = env.skill_with_env(
        &[
            "pull-run",
            "misbehave",
            "setting",
            "key=token",
            "--config",
            &config,
            "--yes",
        ],
        &vars,
    );
    assert_eq!(cold.ok().trim(), format!("token=Some({sentinel:?})"));
    let warm = env.skill_with_env(
        &["pull-run", "--yes", "misbehave", "echo", "text=warm"],
        &vars,
    );
    assert_eq!(warm.ok(), "warm\n");
    assert!(
        !warm.stderr.contains("Pulling"),
        "the cache served it: {}",
        warm.stderr
    );

    // A warm pull-run is answered by `skill` alone (no build-side binary beside this copy);
    // what the tool writes to its data directory is gone afterwards, unless --keep.
    let alone = tempfile::tempdir().unwrap();
    let skill_alone = alone.path().join("skill");
    std::fs::copy(env!("CARGO_BIN_EXE_skill"), &skill_alone).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let pull_run_alone = |args: &[&str]| {
        let out = std::process::Command::new(&skill_alone)
            .args(args)
            .env("SKILL_HOME", env.home.path())
            .env("SKILL_REGISTRY", &default)
            .env("TMPDIR", scratch.path())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        crate::Run::from(out)
    };
    let write = [
        "pull-run",
        "--yes",
        "misbehave",
        "write-file",
        "path=/data/note",
        "text=hi",
    ];
    assert_eq!(pull_run_alone(&write).ok(), "wrote /data/note\n");
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "scratch left behind"
    );
    let kept = pull_run_alone(&[&write[..], &["--keep"]].concat());
    kept.ok();
    let kept_dir = std::fs::read_dir(scratch.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        kept.stderr.contains(&kept_dir.display().to_string()),
        "{}",
        kept.stderr
    );
    assert_eq!(
        std::fs::read_to_string(kept_dir.join("note")).unwrap(),
        "hi"
    );
    // What the cache cannot answer is handed on, and this copy has nothing to hand it to.
    let miss = pull_run_alone(&["pull-run", "--yes", "misbehave@9", "echo", "text=x"]);
    assert!(miss.fails().contains("skill-toolchain"), "{}", miss.stderr);
    assert_eq!(skill_list(&env).trim(), "[]", "nothing was installed");
    assert!(
        !env.home.path().join("instances").exists(),
        "no instance was kept"
    );
    assert_eq!(
        files_containing(env.home.path(), sentinel.as_bytes()),
        Vec::<PathBuf>::new(),
        "the secret was written to disk"
    );

    let pruned = env.skill(&["prune", "--json"]);
    let pruned: serde_json::Value = serde_json::from_str(pruned.ok()).unwrap();
    assert!(pruned.to_string().contains("cache/pull"), "{pruned}");
    assert_eq!(
        std::fs::read_dir(env.home.path().join("cache/pull"))
            .unwrap()
            .count(),
        0
    );
}

/// A registry that answers with far more than a manifest can be: refused at the limit, not
/// read into memory whole.
#[test]
fn a_hostile_registry_cannot_make_us_read_without_end() {
    let huge = format!(
        "{{\"schemaVersion\":2,\"pad\":\"{}\"}}",
        "a".repeat(2 << 20)
    );
    let (port, _) = crate::serve_http(move |request, _| {
        if request.path == "/v2/" {
            crate::HttpResponse::new(200, "{}")
        } else {
            crate::HttpResponse::new(200, &huge)
                .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        }
    });
    let env = Env::new();
    let run = env.skill(&[
        "install",
        &format!("oci://127.0.0.1:{port}/acme/rust-skill:1.0.0"),
        "--yes",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.fails().contains("more than"), "{}", run.stderr);
}

/// A registry that cuts a blob short, or stalls until the install is killed: one clear error,
/// or nothing at all left behind; and a tag is read once (a tag moved mid-install cannot mix
/// versions: everything after that read is by digest).
#[test]
fn cut_short_or_killed_downloads_leave_nothing() {
    use sha2::Digest;
    let blob = "a".repeat(1000);
    let blob_digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&blob)));
    let config = "{}";
    let config_digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(config)));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.wasm.config.v0+json", "digest": config_digest, "size": 2 },
        "layers": [{ "mediaType": "application/wasm", "digest": blob_digest, "size": 1000 }],
    })
    .to_string();
    let stall = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stalling = stall.clone();
    let (port, seen) = crate::serve_http(move |request, _| {
        if request.path == "/v2/" {
            crate::HttpResponse::new(200, "{}")
        } else if request.path.contains("/manifests/") {
            crate::HttpResponse::new(200, &manifest)
                .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        } else if stalling.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(20));
            crate::HttpResponse::new(500, "")
        } else {
            // Half the blob: the connection ends there.
            crate::HttpResponse::new(200, &blob[..500])
        }
    });
    let env = Env::new();
    let reference = format!("oci://127.0.0.1:{port}/acme/rust-skill:1.0.0");
    let cut = env.skill(&["install", &reference, "--yes"]);
    assert_eq!(cut.code, 1, "{}", cut.stderr);
    assert!(cut.fails().contains("cannot be trusted"), "{}", cut.stderr);
    let manifest_reads = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path.contains("/manifests/1.0.0"))
        .count();
    assert_eq!(manifest_reads, 1, "the tag is read once");

    stall.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut child = env
        .command(&["install", &reference, "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path.contains("/blobs/"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the blob was never asked for");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL, mid-download
    child.wait().unwrap();
    assert_eq!(skill_list(&env).trim(), "[]");
    let debris: Vec<PathBuf> = walk(env.home.path())
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            let skills = env.home.path().join("skills");
            (name.starts_with('.') && name != ".lock") || (p.starts_with(&skills) && *p != skills)
        })
        .collect();
    assert_eq!(
        debris,
        Vec::<PathBuf>::new(),
        "nothing half-written is left"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            all.extend(walk(&path));
        }
        all.push(path);
    }
    all
}

/// A template project `name` with `skill_dependencies` (YAML list items) appended.
fn project_with_dependencies(env: &Env, name: &str, dependencies: &[&str]) -> PathBuf {
    let dir = env.path(&format!("projects/{name}"));
    env.skill(&["init", name, "-t", "rust", "--dir", dir.to_str().unwrap()])
        .ok();
    if !dependencies.is_empty() {
        let yaml = dir.join("skill.yaml");
        let mut text = std::fs::read_to_string(&yaml).unwrap();
        text.push_str("skill_dependencies:\n");
        for dependency in dependencies {
            text.push_str(&format!("  - {dependency}\n"));
        }
        std::fs::write(&yaml, text).unwrap();
    }
    dir
}

/// skill_dependencies: resolved against a real registry (shared where requirements overlap,
/// installed first, each reviewed), a conflict names who wants what, a cycle is printed, an
/// optional dependency that cannot be had is skipped with a warning.
#[test]
fn skill_dependencies_are_resolved_and_installed() {
    let registry = TestRegistry::start(None);
    let env = Env::new();
    let default = format!("{}/acme", registry.host);
    let vars = [("SKILL_REGISTRY", default.as_ref())];
    for (name, dependencies) in [
        ("dep-c", &[][..]),
        ("dep-b", &["{ name: dep-c, version: \"^0.1\" }"][..]),
        ("dep-y", &["{ name: dep-x, version: \"*\" }"][..]),
    ] {
        let dir = project_with_dependencies(&env, name, dependencies);
        env.skill(&["build", dir.to_str().unwrap()]).ok();
        env.skill_with_env(&["publish", dir.to_str().unwrap()], &vars)
            .ok();
    }

    // dep-a needs dep-b ^0.1 and dep-c >=0.1; dep-b needs dep-c ^0.1: one dep-c for both, the
    // dependencies installed before dep-a; an optional one that does not exist is skipped.
    let a = project_with_dependencies(
        &env,
        "dep-a",
        &[
            "{ name: dep-b, version: \"^0.1\" }",
            "{ name: dep-c, version: \">=0.1\" }",
            "{ name: dep-ghost, version: \"^1\", optional: true }",
        ],
    );
    let installed = env.skill_with_env(&["install", a.to_str().unwrap(), "--yes"], &vars);
    installed.ok();
    assert!(
        installed
            .stderr
            .contains("optional dependency dep-ghost skipped"),
        "{}",
        installed.stderr
    );
    let list: serde_json::Value =
        serde_json::from_str(env.skill(&["list", "--json"]).ok()).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dep-a", "dep-b", "dep-c"]);
    let order: Vec<usize> = ["dep-c 0.1.0", "dep-b 0.1.0", "dep-a 0.1.0"]
        .iter()
        .map(|s| installed.stderr.find(&format!("Installed {s}")).expect(s))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{}",
        installed.stderr
    );

    // A conflict: dep-b wants dep-c ^0.1, this one ^2 (which does not exist either).
    let fresh = Env::new();
    let conflicting = project_with_dependencies(
        &fresh,
        "dep-top",
        &[
            "{ name: dep-b, version: \"^0.1\" }",
            "{ name: dep-c, version: \"^2\" }",
        ],
    );
    let conflict =
        fresh.skill_with_env(&["install", conflicting.to_str().unwrap(), "--yes"], &vars);
    assert_eq!(conflict.code, 7, "{}", conflict.stderr);
    let said = conflict.fails();
    assert!(
        said.contains("dep-top wants dep-c ^2") && said.contains("dep-b@0.1.0 wants dep-c ^0.1"),
        "{said}"
    );
    assert!(!fresh.home.path().join("skills/dep-top").exists());

    // A cycle: dep-x needs dep-y, which needs dep-x.
    let x = project_with_dependencies(&fresh, "dep-x", &["{ name: dep-y, version: \"*\" }"]);
    let cycle = fresh.skill_with_env(&["install", x.to_str().unwrap(), "--yes"], &vars);
    assert_eq!(cycle.code, 2, "{}", cycle.stderr);
    assert!(
        cycle.fails().contains("dep-x → dep-y → dep-x"),
        "{}",
        cycle.stderr
    );
}
