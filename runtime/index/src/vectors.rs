//! The tools' embedding vectors, one file per provider and model
//! (`$SKILL_HOME/index/vectors-<digest>.bin`), updated like the index: only skills whose
//! version changed are embedded again.
//!
//! Layout: `SKILLVEC1\n`, a little-endian u32 length, a JSON header (`id`, `dims`, and for each
//! skill its name, version key and vector count, in order), then every vector as little-endian
//! f32s in that order (each tool's views one after the other). A file that does not match is ignored (and rebuilt).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use skill_manifest::Result;
use skill_store::SkillHome;

use crate::embed::Embedder;
use crate::{Index, Refreshed};

const MAGIC: &[u8] = b"SKILLVEC1\n";
const MAX_FILE: u64 = 1 << 30;

/// Vectors of one embedder, per skill version.
#[derive(Debug, Default)]
pub struct Vectors {
    id: String,
    dims: usize,
    skills: BTreeMap<String, (String, Vec<Vec<f32>>)>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    id: String,
    dims: usize,
    skills: Vec<(String, String, usize)>,
}

fn path(home: &SkillHome, id: &str) -> PathBuf {
    let digest = skill_store::fsutil::sha256_hex(id.as_bytes());
    home.index_dir()
        .join(format!("vectors-{}.bin", &digest[..16]))
}

impl Vectors {
    pub fn empty(id: &str) -> Vectors {
        Vectors {
            id: id.to_string(),
            ..Default::default()
        }
    }

    /// The saved vectors of embedder `id`; empty when there are none or they do not read.
    pub fn load(home: &SkillHome, id: &str) -> Vectors {
        use std::io::Read;
        let mut bytes = Vec::new();
        let read = std::fs::File::open(path(home, id))
            .and_then(|f| f.take(MAX_FILE).read_to_end(&mut bytes));
        read.ok()
            .and_then(|_| Self::decode(&bytes))
            .filter(|v| v.id == id)
            .unwrap_or_else(|| Vectors::empty(id))
    }

    fn decode(bytes: &[u8]) -> Option<Vectors> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let header: Header = serde_json::from_slice(rest.get(4..4 + len)?).ok()?;
        // The counts must account for exactly the data that follows (a planted header with
        // zero dimensions and a huge count would otherwise loop for ever).
        let floats = rest.len().checked_sub(4 + len)? / 4;
        let declared = header
            .skills
            .iter()
            .try_fold(0usize, |sum, (_, _, count)| sum.checked_add(*count))?
            .checked_mul(header.dims)?;
        if header.dims == 0 || header.dims > 16_384 || declared != floats {
            return None;
        }
        let mut data = rest
            .get(4 + len..)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("chunks of four")));
        let mut skills = BTreeMap::new();
        for (name, key, count) in header.skills {
            let mut tools = Vec::with_capacity(count.min(4096));
            for _ in 0..count {
                let v: Vec<f32> = data.by_ref().take(header.dims).collect();
                if v.len() != header.dims {
                    return None;
                }
                tools.push(v);
            }
            skills.insert(name, (key, tools));
        }
        if data.next().is_some() {
            return None;
        }
        Some(Vectors {
            id: header.id,
            dims: header.dims,
            skills,
        })
    }

    pub fn save(&self, home: &SkillHome) -> Result<()> {
        let header = Header {
            id: self.id.clone(),
            dims: self.dims,
            skills: self
                .skills
                .iter()
                .map(|(n, (k, t))| (n.clone(), k.clone(), t.len()))
                .collect(),
        };
        let header = serde_json::to_vec(&header).expect("the header serializes");
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for (_, tools) in self.skills.values() {
            for v in tools {
                for x in v {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        let dir = home.index_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| skill_manifest::Error::io("create directory", &dir, e))?;
        skill_store::fsutil::write_atomic(&path(home, &self.id), &out)
    }

    /// The vectors of a skill's tools ([`VIEWS`](crate::document::VIEWS) a tool, in the
    /// index's order), if they are of that version.
    pub fn of(&self, name: &str, version_key: &str) -> Option<&Vec<Vec<f32>>> {
        self.skills
            .get(name)
            .filter(|(key, _)| key == version_key)
            .map(|(_, tools)| tools)
    }

    /// Whether some indexed skill has no vectors of its current version (a refresh would
    /// embed something), or vectors of a removed skill are kept.
    pub fn is_stale(&self, index: &Index) -> bool {
        index
            .skills
            .iter()
            .any(|(name, skill)| self.of(name, &skill.version_key).is_none())
            || self
                .skills
                .keys()
                .any(|name| !index.skills.contains_key(name))
    }

    /// Embeds the tools of skills indexed since these vectors were made, and drops removed
    /// skills. Returns which skills were embedded.
    pub fn refresh(&mut self, index: &Index, embedder: &dyn Embedder) -> Result<Refreshed> {
        let mut changes = Refreshed::default();
        self.skills.retain(|name, _| {
            let keep = index.skills.contains_key(name);
            if !keep {
                changes.dropped.push(name.clone());
            }
            keep
        });
        for (name, skill) in &index.skills {
            if self.of(name, &skill.version_key).is_some() {
                continue;
            }
            // Texts repeat (a skill's own text is in each of its tools): each is embedded once.
            let texts: Vec<String> = skill
                .tools
                .iter()
                .flat_map(|t| t.entry.embedding_texts())
                .collect();
            let mut unique: Vec<&String> = texts.iter().collect();
            unique.sort();
            unique.dedup();
            let embedded =
                embedder.embed(&unique.iter().map(|t| (*t).clone()).collect::<Vec<_>>())?;
            let vectors: Vec<Vec<f32>> = texts
                .iter()
                .map(|t| {
                    let i = unique
                        .binary_search(&t)
                        .expect("every text is in the unique list");
                    embedded[i].clone()
                })
                .collect();
            if let Some(first) = vectors.first() {
                if self.skills.is_empty() {
                    self.dims = first.len();
                } else if self.dims != first.len() {
                    return Err(skill_manifest::Error::invalid(format!(
                        "the embedding model {} changed its vector size ({} → {})",
                        self.id,
                        self.dims,
                        first.len()
                    ))
                    .with_hint("delete $SKILL_HOME/index to embed everything again"));
                }
            }
            self.skills
                .insert(name.clone(), (skill.version_key.clone(), vectors));
            changes.indexed.push(name.clone());
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(header: &str, floats: usize) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(0u8, floats * 4));
        out
    }

    #[test]
    fn planted_or_damaged_files_are_ignored_quickly() {
        let good = encode(r#"{"id":"m","dims":2,"skills":[["a","k",2]]}"#, 4);
        let v = Vectors::decode(&good).unwrap();
        assert_eq!(v.of("a", "k").unwrap().len(), 2);
        for bad in [
            encode(
                r#"{"id":"m","dims":0,"skills":[["a","k",18446744073709551615]]}"#,
                0,
            ),
            encode(
                r#"{"id":"m","dims":2,"skills":[["a","k",9223372036854775807],["b","k",9223372036854775807]]}"#,
                4,
            ),
            encode(r#"{"id":"m","dims":2,"skills":[["a","k",3]]}"#, 4),
            encode(r#"{"id":"m","dims":2,"skills":[["a","k",1]]}"#, 4),
            good[..good.len() - 1].to_vec(),
            b"SKILLVEC1\n\xff\xff\xff\xff".to_vec(),
        ] {
            assert!(Vectors::decode(&bad).is_none());
        }
    }
}
