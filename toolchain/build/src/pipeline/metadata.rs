//! Stamps a component with where it came from, in the standard custom sections
//! (wasm-metadata): its name, version and description, the language, every tool that
//! processed it with its version, the SDK, and the digest of the sources it was built from
//! (as the `revision`). No timestamps: stamping keeps builds reproducible.

use std::collections::BTreeMap;

use skill_engine::{Error, Result};
use skill_manifest::manifest::Language;
use wasm_metadata::{AddMetadata, AddMetadataField};

use crate::project::Project;

pub fn stamp(
    component: &[u8],
    project: &Project,
    tools: &BTreeMap<String, String>,
    source_digest: &str,
) -> Result<Vec<u8>> {
    let yaml = &project.skill_yaml;
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set(yaml.name.clone());
    add.version = AddMetadataField::Set(wasm_metadata::Version::new(yaml.version.clone()));
    if let Some(description) = &yaml.description {
        add.description =
            AddMetadataField::Set(wasm_metadata::Description::new(description.clone()));
    }
    add.revision = AddMetadataField::Set(wasm_metadata::Revision::new(format!(
        "sha256:{source_digest}"
    )));
    let language = match project.language {
        Language::Rust => "Rust",
        Language::Javascript => "JavaScript",
        Language::Typescript => "TypeScript",
        Language::Python => "Python",
        Language::Go => "Go",
    };
    add.language = vec![(language.to_string(), String::new())];
    add.processed_by = tools
        .iter()
        .filter(|(name, _)| name.as_str() != "contract")
        .map(|(name, version)| (name.clone(), version.clone()))
        .collect();
    add.sdk = vec![("skill-sdk".to_string(), crate::sdk::SDK_VERSION.to_string())];
    add.to_wasm(component).map_err(|e| {
        Error::invalid(format!(
            "could not stamp metadata into the component: {e:#}"
        ))
        .with_hint("the compiler produced something that is not a valid WebAssembly component")
    })
}
