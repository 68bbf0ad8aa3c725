//! A published skill version as an OCI artifact, in the CNCF Wasm layout so that other OCI and
//! Wasm tools read it: an image manifest whose config is `application/vnd.wasm.config.v0+json`
//! (made by `oci-wasm` from the component) and whose first layer is the component
//! (`application/wasm`). Beside it, in layers of our own media types, what an installer needs
//! without running the component: `skill.yaml` (capabilities, config schema), `manifest.json`
//! (tools and typed parameters) and `SKILL.md` when the skill has one. Each layer carries an
//! `org.opencontainers.image.title` file name, so `oras pull` writes the files out by name.

use std::collections::BTreeMap;

use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use sha2::{Digest, Sha256};
use skill_manifest::error::{Error, Result};
use skill_manifest::manifest::PackageManifest;

pub const MANIFEST_MEDIA_TYPE: &str = oci_wasm::WASM_MANIFEST_MEDIA_TYPE;
pub const CONFIG_MEDIA_TYPE: &str = oci_wasm::WASM_MANIFEST_CONFIG_MEDIA_TYPE;
pub const COMPONENT_MEDIA_TYPE: &str = oci_wasm::WASM_LAYER_MEDIA_TYPE;
pub const SKILL_YAML_MEDIA_TYPE: &str = "application/vnd.skill-engine.skill.v1+yaml";
pub const MANIFEST_JSON_MEDIA_TYPE: &str = "application/vnd.skill-engine.manifest.v1+json";
pub const SKILL_MD_MEDIA_TYPE: &str = "application/vnd.skill-engine.skill-md.v1+markdown";

/// The manifest annotation listing the tools, comma-separated.
pub const TOOLS_ANNOTATION: &str = "io.skill-engine.tools";
const TITLE: &str = "org.opencontainers.image.title";

/// Largest blobs an install accepts, checked against the manifest before downloading and
/// again while downloading (a registry may lie about sizes).
pub const MAX_CONFIG: u64 = 1 << 20;
pub const MAX_SKILL_MD: u64 = skill_manifest::skill_md::MAX_SKILL_MD as u64;
/// Largest image manifest accepted (a skill's has five descriptors).
pub const MAX_IMAGE_MANIFEST: usize = 256 << 10;
const MAX_LAYERS: usize = 16;

/// What a skill version is made of.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub component: Vec<u8>,
    /// `skill.yaml` verbatim; absent in a plain Wasm artifact another tool pushed.
    pub skill_yaml: Option<String>,
    /// The manifest the publisher derived; an installer derives its own and compares.
    pub manifest_json: Option<Vec<u8>>,
    pub skill_md: Option<String>,
}

/// An artifact laid out as OCI blobs, ready to push (or to show, for `--dry-run`).
pub struct Assembled {
    pub config: Config,
    pub layers: Vec<ImageLayer>,
    /// The image manifest exactly as it is pushed.
    pub manifest_bytes: Vec<u8>,
    pub manifest: OciImageManifest,
    /// `sha256:…` of `manifest_bytes`: what the registry will call this version.
    pub digest: String,
}

/// Provenance written into the standard annotations.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// `org.opencontainers.image.created`, RFC 3339.
    pub created: String,
    /// `org.opencontainers.image.revision` (a VCS commit), when known.
    pub revision: Option<String>,
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Artifact {
    /// Lays the artifact out: config from the component, one layer per file, and the
    /// standard annotations from the package manifest.
    pub fn assemble(
        &self,
        manifest: &PackageManifest,
        provenance: &Provenance,
    ) -> Result<Assembled> {
        let (mut wasm_config, component_layer) =
            oci_wasm::WasmConfig::from_raw_component(self.component.clone(), None).map_err(
                |e| {
                    Error::contract(format!("the component cannot be described for OCI: {e:#}"))
                        .with_hint("rebuild it with `skill build`")
                },
            )?;
        // Reproducible: the config says when the version was made, not when it was pushed.
        if let Ok(created) = chrono::DateTime::parse_from_rfc3339(&provenance.created) {
            wasm_config.created = created.with_timezone(&chrono::Utc);
        }
        let mut layers = vec![titled(component_layer, "component.wasm")];
        let mut add = |data: Vec<u8>, media_type: &str, title: &str| {
            layers.push(titled(
                ImageLayer::new(data, media_type.to_string(), None),
                title,
            ));
        };
        if let Some(yaml) = &self.skill_yaml {
            add(
                yaml.clone().into_bytes(),
                SKILL_YAML_MEDIA_TYPE,
                "skill.yaml",
            );
        }
        if let Some(json) = &self.manifest_json {
            add(json.clone(), MANIFEST_JSON_MEDIA_TYPE, "manifest.json");
        }
        if let Some(md) = &self.skill_md {
            add(md.clone().into_bytes(), SKILL_MD_MEDIA_TYPE, "SKILL.md");
        }
        wasm_config.layer_digests = layers.iter().map(|l| sha256_digest(&l.data)).collect();
        let config = oci_wasm::ToConfig::to_config(&wasm_config)
            .map_err(|e| Error::internal(format!("the OCI config cannot be written: {e:#}")))?;
        let mut image =
            OciImageManifest::build(&layers, &config, Some(annotations(manifest, provenance)));
        image.media_type = Some(MANIFEST_MEDIA_TYPE.to_string());
        let manifest_bytes = serde_json::to_vec(&image).expect("a manifest serializes");
        Ok(Assembled {
            digest: sha256_digest(&manifest_bytes),
            config,
            layers,
            manifest_bytes,
            manifest: image,
        })
    }
}

fn titled(mut layer: ImageLayer, title: &str) -> ImageLayer {
    layer
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(TITLE.to_string(), title.to_string());
    layer
}

fn annotations(manifest: &PackageManifest, provenance: &Provenance) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            a.insert(format!("org.opencontainers.image.{key}"), value.to_string());
        }
    };
    put("title", &manifest.name);
    put("version", &manifest.version);
    put("description", &manifest.description);
    put("licenses", manifest.license.as_deref().unwrap_or(""));
    put("source", manifest.repository.as_deref().unwrap_or(""));
    put("revision", provenance.revision.as_deref().unwrap_or(""));
    put("created", &provenance.created);
    let tools: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    a.insert(TOOLS_ANNOTATION.to_string(), tools.join(","));
    a
}

/// The layers of a pulled image manifest an installer reads, checked before any download:
/// the config and exactly one component, our optional layers at most once each, sizes
/// within limits. Layers of other media types are skipped (and not downloaded).
pub struct Layout {
    pub component: OciDescriptor,
    pub skill_yaml: Option<OciDescriptor>,
    pub manifest_json: Option<OciDescriptor>,
    pub skill_md: Option<OciDescriptor>,
}

impl Layout {
    pub fn of(image: &OciImageManifest, shown: &str) -> Result<Layout> {
        let not_a_skill = |why: String| {
            Error::invalid(format!("{shown} is not a skill: {why}")).with_hint(
                "a skill is published as a Wasm component (`skill publish`, or any tool writing the CNCF Wasm OCI layout)",
            )
        };
        if image.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(not_a_skill(format!(
                "its config is `{}`, not `{CONFIG_MEDIA_TYPE}` (a container image?)",
                skill_manifest::text::escape(&image.config.media_type, false)
            )));
        }
        check_size(&image.config, MAX_CONFIG, shown)?;
        if image.layers.len() > MAX_LAYERS {
            return Err(not_a_skill(format!("it has {} layers", image.layers.len())));
        }
        let mut component = None;
        let mut skill_yaml = None;
        let mut manifest_json = None;
        let mut skill_md = None;
        for layer in &image.layers {
            let (slot, max) = match layer.media_type.as_str() {
                COMPONENT_MEDIA_TYPE => (&mut component, skill_manifest::manifest::MAX_COMPONENT),
                SKILL_YAML_MEDIA_TYPE => (
                    &mut skill_yaml,
                    skill_manifest::manifest::MAX_SKILL_YAML as u64,
                ),
                MANIFEST_JSON_MEDIA_TYPE => (
                    &mut manifest_json,
                    skill_manifest::manifest::MAX_MANIFEST as u64,
                ),
                SKILL_MD_MEDIA_TYPE => (&mut skill_md, MAX_SKILL_MD),
                _ => continue,
            };
            if slot.is_some() {
                return Err(not_a_skill(format!(
                    "it has more than one `{}` layer",
                    layer.media_type
                )));
            }
            check_size(layer, max, shown)?;
            *slot = Some(layer.clone());
        }
        let component = component
            .ok_or_else(|| not_a_skill(format!("it has no `{COMPONENT_MEDIA_TYPE}` layer")))?;
        Ok(Layout {
            component,
            skill_yaml,
            manifest_json,
            skill_md,
        })
    }
}

fn check_size(descriptor: &OciDescriptor, max: u64, shown: &str) -> Result<()> {
    if descriptor.size < 0 || descriptor.size as u64 > max {
        return Err(Error::invalid(format!(
            "{shown}: a `{}` blob of {} bytes is over the limit of {max}",
            skill_manifest::text::escape(&descriptor.media_type, false),
            descriptor.size
        ))
        .with_hint(
            "the registry holds something that is not a skill this version of skill accepts",
        ));
    }
    Ok(())
}
