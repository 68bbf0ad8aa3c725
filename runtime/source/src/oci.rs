//! Talking to an OCI distribution registry (any: ghcr.io, Docker Hub, Harbor, zot, the CNCF
//! `distribution` server) through `oci-client`, blocking, each operation bounded in time.
//!
//! Pulling is by digest after one manifest read: a tag is resolved to the digest of the
//! manifest actually received, and every blob after it is fetched by its digest and verified
//! (size and sha256) in memory before the caller sees a byte, so a tag moved mid-pull or a
//! tampered blob can never produce a mix.

use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::{Reference, RegistryOperation};
use semver::Version;
use skill_manifest::error::{Error, ErrorKind, Result};
use skill_store::SkillHome;

use crate::artifact::{self, Artifact, Assembled, Layout, MAX_IMAGE_MANIFEST};
use crate::auth::{Login, login_for};
use crate::reference::{Pick, RegistryConfig, Repository, Request};
use crate::sign;

/// The longest one registry operation (a manifest, a tag list, a whole pull or push) may take.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(600);
/// The most tags read from one repository.
const MAX_TAGS: usize = 10_000;
/// What marks a version yanked: the tag `<version>.yanked`.
pub const YANKED_SUFFIX: &str = ".yanked";
const YANK_MEDIA_TYPE: &str = "application/vnd.skill-engine.yank.v1+json";

/// A repository's versions, newest first, and the yanked ones among them.
pub struct Listing {
    pub versions: Vec<Version>,
    pub yanked: std::collections::BTreeSet<Version>,
}

/// The largest page of a tag list read (1000 tags of up to 128 characters, quoted).
const MAX_TAG_PAGE: usize = 256 << 10;

#[derive(serde::Deserialize)]
struct TagPage {
    tags: Option<Vec<String>>,
}

/// `last=` of a tag-list page: tags are letters, digits, `_`, `.`, `-` (anything else escaped).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A resolved version: which manifest, and what it lists.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub repository: Repository,
    /// The tag it was found under, when it was found by tag or requirement.
    pub tag: Option<String>,
    /// `sha256:…` of the image manifest.
    pub digest: String,
    pub image: OciImageManifest,
}

impl Resolved {
    /// `oci://REGISTRY/PATH@sha256:…`: this exact version, forever.
    pub fn pinned(&self) -> String {
        format!("oci://{}@{}", self.repository, self.digest)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.image
            .annotations
            .as_ref()?
            .get(key)
            .map(String::as_str)
    }
}

/// Progress of a transfer: called with the bytes moved since the last call.
pub type Progress<'a> = &'a dyn Fn(u64);

pub struct Registry {
    /// One client per registry, so tokens are exchanged once per registry and command.
    clients: std::sync::Mutex<std::collections::HashMap<String, oci_client::Client>>,
    logins: std::sync::Mutex<std::collections::HashMap<String, Login>>,
    http: std::sync::Mutex<std::collections::HashMap<bool, reqwest::Client>>,
    /// Bearer tokens (or none needed) per repository, from `oci-client`'s exchange.
    tokens: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
    runtime: tokio::runtime::Runtime,
    home: SkillHome,
    config: RegistryConfig,
}

impl Registry {
    pub fn new(home: SkillHome, config: RegistryConfig) -> Result<Registry> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the network runtime: {e}")))?;
        Ok(Registry {
            clients: Default::default(),
            logins: Default::default(),
            http: Default::default(),
            tokens: Default::default(),
            runtime,
            home,
            config,
        })
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    fn block_on<T>(
        &self,
        what: &str,
        future: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.runtime.block_on(async {
            match tokio::time::timeout(OPERATION_TIMEOUT, future).await {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!("{what} took longer than {} s", OPERATION_TIMEOUT.as_secs()),
                )
                .with_hint("the registry is too slow or stalled; try again later")),
            }
        })
    }

    /// The credential for the repository's registry, looked up once per command (a Docker
    /// credential helper is a program run each time).
    fn login(&self, repository: &Repository) -> Result<Login> {
        let mut logins = self.logins.lock().expect("not poisoned");
        if let Some(login) = logins.get(&repository.registry) {
            return Ok(login.clone());
        }
        let login = login_for(&self.home, &repository.registry)?;
        if !login.is_anonymous() {
            self.check_challenge(&repository.registry)?;
        }
        logins.insert(repository.registry.clone(), login.clone());
        Ok(login)
    }

    /// Before a credential is used: where the registry's `WWW-Authenticate: Bearer` challenge
    /// would have it sent. `oci-client` sends it to that realm as it is; a realm over plain
    /// HTTP (from a registry that is not itself plain-HTTP on loopback or listed) would put the
    /// password on the wire, so it is refused before anything is sent.
    fn check_challenge(&self, registry: &str) -> Result<()> {
        let plain = self.config.is_plain_http(registry);
        let url = format!("{}://{registry}/v2/", if plain { "http" } else { "https" });
        let challenge = self.block_on("asking the registry how to log in", async {
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::internal(format!("no HTTP client: {e}")))?;
            match client.get(&url).send().await {
                Ok(response) => Ok(response
                    .headers()
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)),
                // Unreachable: the operation itself will say so, with no credential sent.
                Err(_) => Ok(None),
            }
        })?;
        let Some(realm) = challenge.as_deref().and_then(bearer_realm) else {
            return Ok(());
        };
        if realm_allowed(registry, plain, &realm) {
            Ok(())
        } else {
            Err(bad_realm(
                registry,
                &realm,
                "the password would cross the network unencrypted",
            ))
        }
    }

    fn reference(&self, repository: &Repository, tag_or_digest: &str) -> Reference {
        if tag_or_digest.starts_with("sha256:") {
            Reference::with_digest(
                repository.registry.clone(),
                repository.path.clone(),
                tag_or_digest.to_string(),
            )
        } else {
            Reference::with_tag(
                repository.registry.clone(),
                repository.path.clone(),
                tag_or_digest.to_string(),
            )
        }
    }

    /// Every tag of a repository (unsorted, as the registry lists them).
    pub fn tags(&self, repository: &Repository) -> Result<Vec<String>> {
        let login = self.login(repository)?;
        let reference = self.reference(repository, "latest");
        let client = self.protocol_client(repository);
        self.block_on("listing tags", async {
            let mut tags: Vec<String> = Vec::new();
            let mut last: Option<String> = None;
            loop {
                let mut url = format!("{}/tags/list?n=1000", self.repository_url(repository));
                if let Some(last) = &last {
                    url.push_str(&format!("&last={}", percent_encode(last)));
                }
                let (body, _) = self
                    .bounded_get(
                        &client,
                        &reference,
                        &login,
                        &url,
                        "application/json",
                        MAX_TAG_PAGE,
                    )
                    .await?;
                let page: TagPage = serde_json::from_slice(&body).map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("{repository}: the registry's tag list cannot be read: {e}"),
                    )
                    .with_hint("the registry answered something that is not a tag list")
                })?;
                let page = page.tags.unwrap_or_default();
                let count = page.len();
                tags.extend(page);
                if count < 1000 || tags.len() >= MAX_TAGS {
                    break;
                }
                last = tags.last().cloned();
            }
            tags.truncate(MAX_TAGS);
            Ok(tags)
        })
    }

    fn repository_url(&self, repository: &Repository) -> String {
        let scheme = if self.config.is_plain_http(&repository.registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}/v2/{}", repository.registry, repository.path)
    }

    /// GET `url` with the registry's credential (a bearer token from `oci-client`'s exchange,
    /// or Basic), reading at most `max` bytes: a registry cannot make us hold more. (oci-client
    /// reads manifests and tag lists whole.)
    async fn bounded_get(
        &self,
        client: &oci_client::Client,
        reference: &Reference,
        login: &Login,
        url: &str,
        accept: &str,
        max: usize,
    ) -> Result<(Vec<u8>, reqwest::header::HeaderMap)> {
        let repository = Repository {
            registry: reference.registry().to_string(),
            path: reference.repository().to_string(),
        };
        // One token exchange per repository and command.
        let cached = self
            .tokens
            .lock()
            .expect("not poisoned")
            .get(&repository.to_string())
            .cloned();
        let token = match cached {
            Some(token) => token,
            None => {
                let token = client
                    .auth(reference, &login.auth, RegistryOperation::Pull)
                    .await
                    .map_err(|e| registry_error(e, &repository, "read", login))?;
                self.tokens
                    .lock()
                    .expect("not poisoned")
                    .insert(repository.to_string(), token.clone());
                token
            }
        };
        let http = self.http(url.starts_with("http:"))?;
        let request = authorized(
            http.get(url).header(reqwest::header::ACCEPT, accept),
            token.as_deref(),
            login,
        );
        let mut response = request.send().await.map_err(|e| {
            registry_error(
                OciDistributionError::RequestError(e),
                &repository,
                "read",
                login,
            )
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            let code = if status == 401 || status == 403 || status == 404 {
                status
            } else {
                500
            };
            return Err(registry_error(
                OciDistributionError::ServerError {
                    code,
                    url: String::new(),
                    message: format!("HTTP {status}"),
                },
                &repository,
                "read",
                login,
            ));
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            registry_error(
                OciDistributionError::RequestError(e),
                &repository,
                "read",
                login,
            )
        })? {
            if body.len() + chunk.len() > max {
                return Err(Error::invalid(format!(
                    "{repository}: the registry sent more than {max} bytes where a manifest or a tag list belongs"
                ))
                .with_hint("this is not a skill artifact, or the registry misbehaves; nothing was installed"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, headers))
    }

    /// One HTTP client for this command's own requests (bounded reads), per scheme: the one
    /// for plain-HTTP registries trusts no TLS roots (building a client that does reads every
    /// system root certificate, a few ms, for nothing; a redirect to HTTPS fails there).
    fn http(&self, plain: bool) -> Result<reqwest::Client> {
        let mut http = self.http.lock().expect("not poisoned");
        if let Some(client) = http.get(&plain) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("skill/", env!("CARGO_PKG_VERSION")));
        if plain {
            builder = builder.tls_certs_only(Vec::new());
        }
        let client = builder
            .build()
            .map_err(|e| Error::internal(format!("no HTTP client: {e}")))?;
        http.insert(plain, client.clone());
        Ok(client)
    }

    /// The repository's semver tags, newest first (other tags are ignored), and which of
    /// them are yanked.
    pub fn listing(&self, repository: &Repository) -> Result<Listing> {
        let tags = self.tags(repository)?;
        let mut versions: Vec<Version> =
            tags.iter().filter_map(|t| Version::parse(t).ok()).collect();
        versions.sort_by(|a, b| b.cmp(a));
        versions.dedup();
        let yanked = tags
            .iter()
            .filter_map(|t| t.strip_suffix(YANKED_SUFFIX))
            .filter_map(|v| Version::parse(v).ok())
            .collect();
        Ok(Listing { versions, yanked })
    }

    /// Marks `version` yanked: new resolutions skip it; its tag and digest keep working. The
    /// mark is a tag `<version>.yanked` (not semver, so never resolved itself) on a small
    /// manifest of its own, which any registry can hold.
    pub fn yank(&self, repository: &Repository, version: &Version) -> Result<()> {
        let target = self
            .existing(repository, &version.to_string())?
            .ok_or_else(|| {
                Error::not_found(format!("{repository} has no version {version}"))
                    .with_hint("see `skill info NAME --remote` for the versions there")
            })?;
        let note = serde_json::to_vec(&serde_json::json!({
            "yanked": version.to_string(),
            "digest": target,
        }))
        .expect("a note serializes");
        let digest = artifact::sha256_digest(&note);
        let image = OciImageManifest {
            schema_version: 2,
            media_type: Some(artifact::MANIFEST_MEDIA_TYPE.to_string()),
            config: OciDescriptor {
                media_type: YANK_MEDIA_TYPE.to_string(),
                digest: digest.clone(),
                size: note.len() as i64,
                ..Default::default()
            },
            layers: vec![OciDescriptor {
                media_type: YANK_MEDIA_TYPE.to_string(),
                digest: digest.clone(),
                size: note.len() as i64,
                ..Default::default()
            }],
            ..Default::default()
        };
        let manifest = serde_json::to_vec(&image).expect("a manifest serializes");
        let tag = format!("{version}{YANKED_SUFFIX}");
        self.push_image(
            repository,
            &tag,
            &[(&note, digest.as_str())],
            &manifest,
            &|_| {},
        )
    }

    /// Takes a yank back: deletes the `<version>.yanked` mark (the registry must allow
    /// deletes, as most do).
    pub fn unyank(&self, repository: &Repository, version: &Version) -> Result<()> {
        let tag = format!("{version}{YANKED_SUFFIX}");
        let mark = self.existing(repository, &tag)?.ok_or_else(|| {
            Error::not_found(format!("{repository} {version} is not yanked"))
                .with_hint("nothing to undo")
        })?;
        let login = self.login(repository)?;
        let reference = self.reference(repository, &tag);
        let client = self.protocol_client(repository);
        let url = format!("{}/manifests/{mark}", self.repository_url(repository));
        let http = self.http(url.starts_with("http:"))?;
        self.block_on("taking the yank back", async {
            let token = client
                .auth(&reference, &login.auth, RegistryOperation::Push)
                .await
                .map_err(|e| registry_error(e, repository, "change", &login))?;
            let request = authorized(http.delete(&url), token.as_deref(), &login);
            let response = request.send().await.map_err(|e| {
                registry_error(OciDistributionError::RequestError(e), repository, "change", &login)
            })?;
            match response.status().as_u16() {
                200..=299 => Ok(()),
                405 => Err(Error::new(
                    ErrorKind::Io,
                    format!("{} does not allow deleting manifests", repository.registry),
                )
                .with_hint("the registry's operator can enable deletes (for the CNCF distribution server: storage.delete.enabled)")),
                code => Err(registry_error(
                    OciDistributionError::ServerError {
                        code: if matches!(code, 401 | 403 | 404) { code } else { 500 },
                        url: String::new(),
                        message: format!("HTTP {code}"),
                    },
                    repository,
                    "change",
                    &login,
                )),
            }
        })
    }

    /// Finds the version a request asks for and reads its manifest (one read; every later
    /// read is by the digest of what was received).
    pub fn resolve(&self, request: &Request) -> Result<Resolved> {
        let repository = &request.repository;
        let tag = match &request.pick {
            Pick::Digest(digest) => return self.manifest(repository, digest, None),
            Pick::Tag(tag) => tag.clone(),
            Pick::Newest(req) => {
                let Listing { versions, yanked } = self.listing(repository)?;
                let chosen = versions
                    .iter()
                    .filter(|v| !yanked.contains(v))
                    .find(|v| req.matches(v));
                let chosen = chosen.ok_or_else(|| {
                    let shown: Vec<String> =
                        versions.iter().take(10).map(|v| v.to_string()).collect();
                    Error::not_found(format!("no version of {repository} matches `{req}`"))
                        .with_hint(if versions.iter().any(|v| req.matches(v)) {
                            "every matching version is yanked; install one by its tag or digest (oci://…:VERSION) if you must".to_string()
                        } else if shown.is_empty() {
                            "the repository has no semver-tagged versions (publish one with `skill publish`)".to_string()
                        } else {
                            format!(
                                "versions there: {}{}",
                                shown.join(", "),
                                if versions.len() > 10 { ", …" } else { "" }
                            )
                        })
                })?;
                chosen.to_string()
            }
        };
        self.manifest(repository, &tag, Some(tag.clone()))
    }

    fn manifest(
        &self,
        repository: &Repository,
        tag_or_digest: &str,
        tag: Option<String>,
    ) -> Result<Resolved> {
        let login = self.login(repository)?;
        let reference = self.reference(repository, tag_or_digest);
        let client = self.protocol_client(repository);
        let shown = format!("{repository}:{tag_or_digest}");
        let url = format!(
            "{}/manifests/{tag_or_digest}",
            self.repository_url(repository)
        );
        let accept = [
            artifact::MANIFEST_MEDIA_TYPE,
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
        .join(", ");
        let (bytes, headers) = self.block_on("reading the manifest", async {
            self.bounded_get(
                &client,
                &reference,
                &login,
                &url,
                &accept,
                MAX_IMAGE_MANIFEST,
            )
            .await
        })?;
        // The digest is that of the bytes received; what the registry or the request said it
        // would be must agree.
        let digest = artifact::sha256_digest(&bytes);
        let claimed = headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.starts_with("sha256:"));
        let asked = tag_or_digest
            .starts_with("sha256:")
            .then_some(tag_or_digest);
        for expected in [claimed, asked].into_iter().flatten() {
            if expected != digest {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "{shown}: the manifest received does not match its digest ({expected})"
                    ),
                )
                .with_hint(
                    "nothing was installed; the registry or something on the way changed it",
                ));
            }
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::invalid(format!(
                "{shown}: the registry sent a manifest that is not JSON: {e}"
            ))
            .with_hint("this is not a skill artifact")
        })?;
        let media_type = value
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or("");
        if value.get("manifests").is_some()
            || media_type.contains("index")
            || media_type.contains("list")
        {
            return Err(Error::invalid(format!(
                "{shown} is an image index (several platforms), not a skill"
            ))
            .with_hint("a skill is one Wasm component: name a skill's repository, or its digest"));
        }
        let image: OciImageManifest = serde_json::from_value(value).map_err(|e| {
            Error::invalid(format!("{shown}: its manifest cannot be read: {e}"))
                .with_hint("this is not a skill artifact")
        })?;
        Ok(Resolved {
            repository: repository.clone(),
            tag,
            digest,
            image,
        })
    }

    /// Downloads a resolved version, every blob checked against its size and digest.
    pub fn pull(&self, resolved: &Resolved, progress: Progress) -> Result<Artifact> {
        let shown = format!("{}@{}", resolved.repository, resolved.digest);
        let layout = Layout::of(&resolved.image, &shown)?;
        let text = |bytes: Vec<u8>, what: &str| {
            String::from_utf8(bytes).map_err(|_| {
                Error::invalid(format!("{shown}: its {what} is not UTF-8"))
                    .with_hint("this is not a skill artifact")
            })
        };
        let component = self.blob(resolved, &layout.component, progress)?;
        let skill_yaml = match &layout.skill_yaml {
            Some(d) => Some(text(self.blob(resolved, d, progress)?, "skill.yaml")?),
            None => None,
        };
        let manifest_json = match &layout.manifest_json {
            Some(d) => Some(self.blob(resolved, d, progress)?),
            None => None,
        };
        let skill_md = match &layout.skill_md {
            Some(d) => Some(text(self.blob(resolved, d, progress)?, "SKILL.md")?),
            None => None,
        };
        Ok(Artifact {
            component,
            skill_yaml,
            manifest_json,
            skill_md,
        })
    }

    /// The small layers only (skill.yaml, manifest.json, SKILL.md), for `skill info`.
    pub fn pull_metadata(&self, resolved: &Resolved) -> Result<Artifact> {
        let shown = format!("{}@{}", resolved.repository, resolved.digest);
        let layout = Layout::of(&resolved.image, &shown)?;
        let none = &|_| {};
        let read = |d: &Option<OciDescriptor>| -> Result<Option<Vec<u8>>> {
            d.as_ref().map(|d| self.blob(resolved, d, none)).transpose()
        };
        Ok(Artifact {
            component: Vec::new(),
            skill_yaml: read(&layout.skill_yaml)?.map(|b| String::from_utf8_lossy(&b).into_owned()),
            manifest_json: read(&layout.manifest_json)?,
            skill_md: read(&layout.skill_md)?.map(|b| String::from_utf8_lossy(&b).into_owned()),
        })
    }

    /// One blob, in memory, refused as soon as it outgrows its declared size, then verified.
    fn blob(
        &self,
        resolved: &Resolved,
        descriptor: &OciDescriptor,
        progress: Progress,
    ) -> Result<Vec<u8>> {
        let repository = &resolved.repository;
        let login = self.login(repository)?;
        let reference = self.reference(repository, &resolved.digest);
        let client = self.protocol_client(repository);
        let expected = descriptor.size.max(0) as u64;
        let shown = format!("{repository}@{}", resolved.digest);
        let bytes = self.block_on("downloading", async {
            client
                .store_auth_if_needed(reference.resolve_registry(), &login.auth)
                .await;
            let mut stream = client
                .pull_blob_stream(&reference, descriptor)
                .await
                .map_err(|e| registry_error(e, repository, "download", &login))?;
            let mut bytes = Vec::with_capacity(expected.min(64 << 20) as usize);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    let why = format!("the download broke off or does not match its digest ({e})");
                    mismatch(&shown, descriptor, &why)
                })?;
                if bytes.len() as u64 + chunk.len() as u64 > expected {
                    return Err(mismatch(
                        &shown,
                        descriptor,
                        "it is larger than its manifest says",
                    ));
                }
                bytes.extend_from_slice(&chunk);
                progress(chunk.len() as u64);
            }
            Ok(bytes)
        })?;
        if bytes.len() as u64 != expected {
            return Err(mismatch(
                &shown,
                descriptor,
                &format!("{} of {expected} bytes arrived", bytes.len()),
            ));
        }
        if artifact::sha256_digest(&bytes) != descriptor.digest {
            return Err(mismatch(
                &shown,
                descriptor,
                "its content does not match its digest",
            ));
        }
        Ok(bytes)
    }

    /// The digest of what `tag` names, or `None` when nothing does.
    pub fn existing(&self, repository: &Repository, tag: &str) -> Result<Option<String>> {
        match self.manifest(repository, tag, Some(tag.to_string())) {
            Ok(found) => Ok(Some(found.digest)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pushes every blob, then the manifest under `tag`; returns the manifest digest.
    pub fn push(
        &self,
        repository: &Repository,
        tag: &str,
        assembled: &Assembled,
        progress: Progress,
    ) -> Result<String> {
        let blobs: Vec<(&[u8], &str)> = std::iter::once((
            assembled.config.data.as_ref(),
            assembled.manifest.config.digest.as_str(),
        ))
        .chain(
            assembled
                .layers
                .iter()
                .zip(&assembled.manifest.layers)
                .map(|(l, d)| (l.data.as_ref(), d.digest.as_str())),
        )
        .collect();
        self.push_image(repository, tag, &blobs, &assembled.manifest_bytes, progress)?;
        Ok(assembled.digest.clone())
    }

    /// Blobs first (those the registry lacks), then the manifest under `tag`.
    fn push_image(
        &self,
        repository: &Repository,
        tag: &str,
        blobs: &[(&[u8], &str)],
        manifest: &[u8],
        progress: Progress,
    ) -> Result<()> {
        let login = self.login(repository)?;
        let reference = self.reference(repository, tag);
        let client = self.protocol_client(repository);
        self.block_on("publishing", async {
            let fail = |e| registry_error(e, repository, "publish to", &login);
            client
                .auth(&reference, &login.auth, RegistryOperation::Push)
                .await
                .map_err(fail)?;
            for (data, digest) in blobs {
                if !client
                    .blob_exists(&reference, digest)
                    .await
                    .unwrap_or(false)
                {
                    client
                        .push_blob(&reference, data.to_vec(), digest)
                        .await
                        .map_err(fail)?;
                }
                progress(data.len() as u64);
            }
            client
                .push_manifest_raw(
                    &reference,
                    manifest.to_vec(),
                    artifact::MANIFEST_MEDIA_TYPE
                        .parse()
                        .expect("a header value"),
                )
                .await
                .map_err(fail)?;
            Ok(())
        })
    }

    /// Adds a cosign signature of `digest` under its `sha256-<hex>.sig` tag, keeping the
    /// signatures already there.
    pub fn push_signature(
        &self,
        repository: &Repository,
        digest: &str,
        payload: &[u8],
        signature: &str,
    ) -> Result<()> {
        let tag = sign::signature_tag(digest);
        let mut layers = match self.manifest(repository, &tag, Some(tag.clone())) {
            Ok(existing) => existing.image.layers,
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let payload_digest = artifact::sha256_digest(payload);
        layers.retain(|l| l.digest != payload_digest);
        layers.push(OciDescriptor {
            media_type: sign::PAYLOAD_MEDIA_TYPE.to_string(),
            digest: payload_digest.clone(),
            size: payload.len() as i64,
            annotations: Some(
                [(
                    sign::SIGNATURE_ANNOTATION.to_string(),
                    signature.to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        });
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| &l.digest).collect::<Vec<_>>(),
            },
        }))
        .expect("a config serializes");
        let image = OciImageManifest {
            schema_version: 2,
            media_type: Some(artifact::MANIFEST_MEDIA_TYPE.to_string()),
            config: OciDescriptor {
                media_type: "application/vnd.oci.image.config.v1+json".to_string(),
                digest: artifact::sha256_digest(&config),
                size: config.len() as i64,
                ..Default::default()
            },
            layers,
            ..Default::default()
        };
        let manifest = serde_json::to_vec(&image).expect("a manifest serializes");
        let config_digest = image.config.digest.clone();
        let blobs: [(&[u8], &str); 2] = [
            (payload, payload_digest.as_str()),
            (&config, config_digest.as_str()),
        ];
        self.push_image(repository, &tag, &blobs, &manifest, &|_| {})
    }

    /// The cosign signatures stored for a resolved version: (payload, base64 signature) pairs,
    /// each payload verified against its digest. None is an empty list.
    pub fn signatures(&self, resolved: &Resolved) -> Result<Vec<(Vec<u8>, String)>> {
        let tag = sign::signature_tag(&resolved.digest);
        let found = match self.manifest(&resolved.repository, &tag, Some(tag.clone())) {
            Ok(found) => found,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut signatures = Vec::new();
        for layer in found.image.layers.iter().take(16) {
            let Some(signature) = layer
                .annotations
                .as_ref()
                .and_then(|a| a.get(sign::SIGNATURE_ANNOTATION))
            else {
                continue;
            };
            if layer.media_type != sign::PAYLOAD_MEDIA_TYPE
                || !(0..=sign::MAX_PAYLOAD).contains(&layer.size)
            {
                continue;
            }
            let payload = self.blob(&found, layer, &|_| {})?;
            signatures.push((payload, signature.clone()));
        }
        Ok(signatures)
    }

    /// Checks a credential against a registry (`skill login`): the registry must accept it.
    pub fn check_login(
        &self,
        registry: &str,
        auth: &oci_client::secrets::RegistryAuth,
    ) -> Result<()> {
        let repository = Repository {
            registry: registry.to_string(),
            path: "skill-login-check".to_string(),
        };
        let login = Login {
            auth: auth.clone(),
            from: "the credential given".to_string(),
        };
        self.check_challenge(registry)?;
        let reference = self.reference(&repository, "latest");
        let client = self.protocol_client(&repository);
        self.block_on("logging in", async {
            client
                .auth(&reference, auth, RegistryOperation::Pull)
                .await
                .map_err(|e| registry_error(e, &repository, "log in to", &login))?;
            // A registry answering with Basic auth is only really asked on a request.
            match client.list_tags(&reference, auth, Some(1), None).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let err = registry_error(e, &repository, "log in to", &login);
                    if err.kind() == ErrorKind::NotFound {
                        Ok(())
                    } else {
                        Err(err)
                    }
                }
            }
        })
    }

    /// The client for the repository's registry: plain HTTP for loopback and the hosts the
    /// settings list, HTTPS for everything else.
    fn protocol_client(&self, repository: &Repository) -> oci_client::Client {
        let mut clients = self.clients.lock().expect("not poisoned");
        clients
            .entry(repository.registry.clone())
            .or_insert_with(|| {
                let protocol = if self.config.is_plain_http(&repository.registry) {
                    ClientProtocol::Http
                } else {
                    ClientProtocol::Https
                };
                oci_client::Client::new(ClientConfig {
                    protocol,
                    connect_timeout: Some(Duration::from_secs(15)),
                    read_timeout: Some(Duration::from_secs(60)),
                    user_agent: concat!("skill/", env!("CARGO_PKG_VERSION")),
                    // A skill is one manifest; an index is refused with its own message.
                    platform_resolver: None,
                    ..Default::default()
                })
            })
            .clone()
    }
}

/// Whether credentials may go to a token realm: over HTTPS always (Docker Hub's is another
/// host); over plain HTTP only from a plain-HTTP registry, to itself or to loopback.
fn realm_allowed(registry: &str, plain: bool, realm: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(realm) else {
        return false;
    };
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" => true,
        "http" => {
            plain
                && (crate::reference::is_loopback(host) || registry.split(':').next() == Some(host))
        }
        _ => false,
    }
}

/// A request of our own, with the bearer token `oci-client` exchanged, else the Basic
/// credential, else none.
fn authorized(
    request: reqwest::RequestBuilder,
    token: Option<&str>,
    login: &Login,
) -> reqwest::RequestBuilder {
    match (token, &login.auth) {
        (Some(token), _) => request.bearer_auth(token),
        (None, oci_client::secrets::RegistryAuth::Basic(user, password)) => {
            request.basic_auth(user, Some(password))
        }
        _ => request,
    }
}

/// `realm="…"` of a `Bearer` challenge.
fn bearer_realm(challenge: &str) -> Option<String> {
    let rest = challenge.trim().strip_prefix("Bearer")?.trim_start();
    let at = rest.find("realm=")?;
    let value = &rest[at + "realm=".len()..];
    let value = value.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_string())
}

fn bad_realm(registry: &str, realm: &str, why: &str) -> Error {
    Error::denied(format!(
        "{registry} asks for credentials to be sent to `{}`: refused, {why}",
        skill_manifest::text::escape(realm, false)
    ))
    .with_hint("nothing was sent; a registry you log in to must take credentials over HTTPS (check the address, or `skill logout` it)")
}

fn mismatch(shown: &str, descriptor: &OciDescriptor, why: &str) -> Error {
    Error::new(
        ErrorKind::Io,
        format!(
            "{shown}: the blob {} ({}) cannot be trusted: {why}",
            descriptor.digest,
            skill_manifest::text::escape(&descriptor.media_type, false)
        ),
    )
    .with_hint("nothing was installed; the download was cut short or changed on the way (a proxy, a damaged registry); try again")
}

/// One error per registry failure, by what it means to the user.
fn registry_error(
    e: OciDistributionError,
    repository: &Repository,
    action: &str,
    login: &Login,
) -> Error {
    let registry = &repository.registry;
    let denied = || {
        let err = Error::denied(format!(
            "{registry} refused to let us {action} {repository}"
        ));
        if login.is_anonymous() {
            err.with_hint(format!("log in first: `skill login {registry}`"))
        } else {
            err.with_hint(format!(
                "the credential from {} was refused or lacks access; log in again: `skill login {registry}`",
                login.from
            ))
        }
    };
    let not_found = || {
        Error::not_found(format!("{repository} was not found ({action})")).with_hint(
            "check the name and the registry; a private repository also answers `not found` to someone not logged in",
        )
    };
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => denied(),
        OciDistributionError::ServerError { code: 401 | 403, .. } => denied(),
        OciDistributionError::ServerError { code: 404, .. }
        | OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                denied()
            } else if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown
                )
            }) {
                not_found()
            } else {
                let said: Vec<String> = envelope
                    .errors
                    .iter()
                    .map(|e| skill_manifest::text::escape(&truncate(&e.message, 200), false).into_owned())
                    .collect();
                Error::new(
                    ErrorKind::Io,
                    format!("{registry} refused to {action} {repository}: {}", said.join("; ")),
                )
                .with_hint("the registry's own words; check its documentation or logs")
            }
        }
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => Error::new(
            ErrorKind::Io,
            format!("cannot reach the registry {registry}: {}", root_cause(&e)),
        )
        .with_hint(
            "check the address and that the registry is running; plain HTTP is used only for loopback and `registry.insecure` hosts",
        ),
        other => Error::new(
            ErrorKind::Io,
            format!(
                "could not {action} {repository}: {}",
                skill_manifest::text::escape(&truncate(&other.to_string(), 300), false)
            ),
        )
        .with_hint("the registry answered something unexpected; try again, or check the registry"),
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    skill_manifest::text::escape(&truncate(&cause.to_string(), 200), false).into_owned()
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_realms() {
        assert_eq!(
            bearer_realm(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#
            )
            .as_deref(),
            Some("https://auth.docker.io/token")
        );
        assert_eq!(bearer_realm(r#"Basic realm="test""#), None);
        assert_eq!(bearer_realm("Bearer realm=unquoted"), None);
    }

    #[test]
    fn credentials_never_go_to_a_plain_http_realm_of_an_https_registry() {
        assert!(realm_allowed("ghcr.io", false, "https://ghcr.io/token"));
        assert!(realm_allowed(
            "docker.io",
            false,
            "https://auth.docker.io/token"
        ));
        assert!(!realm_allowed("ghcr.io", false, "http://ghcr.io/token"));
        assert!(!realm_allowed(
            "vm:8443",
            false,
            "http://127.0.0.2:6100/token"
        ));
        assert!(!realm_allowed("ghcr.io", false, "ftp://ghcr.io/token"));
        assert!(!realm_allowed("ghcr.io", false, "not a url"));
        assert!(realm_allowed(
            "localhost:5000",
            true,
            "http://localhost:5000/token"
        ));
        assert!(realm_allowed(
            "127.0.0.1:5000",
            true,
            "http://127.0.0.1:5001/token"
        ));
        assert!(!realm_allowed(
            "registry.lan:5000",
            true,
            "http://elsewhere.example/token"
        ));
    }
}
