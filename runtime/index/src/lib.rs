//! Search over the tools of installed skills: what `skill find` and `skill serve
//! --tools=search` ask.
//!
//! Each tool is a document made of its name, description and parameters, its skill's name
//! and descriptions, and its section of SKILL.md. Documents are tokenized (lowercased,
//! stemmed, stop words dropped) once, when the skill is installed, and kept under
//! `$SKILL_HOME/index`; a query only tokenizes itself and scores with BM25.
//!
//! The index follows the store: [`Index::refresh`] compares each skill's current version with
//! the one indexed and re-reads only what changed, so it is cheap to call before every query,
//! and install/update/remove call it so the first query after them does no work.

pub mod agents;
mod document;
pub mod embed;
mod scoring;
mod vectors;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use skill_manifest::Result;
use skill_store::SkillHome;
use skill_store::store::Store;

pub use document::ToolEntry;
use document::VIEWS;
pub use embed::Embedder;
use scoring::Bm25;
pub use vectors::Vectors;

/// Bumped when what is stored changes shape or meaning (tokenizer, fields, weights): an
/// index of another format is rebuilt, never misread.
const FORMAT: u32 = 2;
const INDEX_FILE: &str = "tools.json";
/// A larger file is not read (it is a cache: rebuilt instead).
const MAX_INDEX_FILE: u64 = 256 << 20;

/// The indexed tools of every installed skill.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Index {
    format: u32,
    skills: BTreeMap<String, IndexedSkill>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexedSkill {
    /// The store's name for the version indexed; another name means the skill changed.
    version_key: String,
    tools: Vec<IndexedTool>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexedTool {
    entry: ToolEntry,
    /// Weighted term frequencies (the field weights already applied).
    terms: Vec<(String, f32)>,
}

/// What a refresh changed, by skill name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub indexed: Vec<String>,
    pub dropped: Vec<String>,
}

impl Refreshed {
    pub fn is_empty(&self) -> bool {
        self.indexed.is_empty() && self.dropped.is_empty()
    }
}

/// A tool found by a query.
#[derive(Debug, Clone, Serialize)]
pub struct Hit<'a> {
    pub score: f32,
    #[serde(flatten)]
    pub entry: &'a ToolEntry,
}

fn index_file(home: &SkillHome) -> PathBuf {
    home.index_dir().join(INDEX_FILE)
}

impl Index {
    /// The index as last saved; empty when there is none or it cannot be read (it is
    /// rebuilt from the store by [`Index::refresh`]).
    pub fn load(home: &SkillHome) -> Index {
        use std::io::Read;
        let path = index_file(home);
        let mut bytes = Vec::new();
        let read =
            std::fs::File::open(&path).and_then(|f| f.take(MAX_INDEX_FILE).read_to_end(&mut bytes));
        match read
            .ok()
            .and_then(|_| serde_json::from_slice::<Index>(&bytes).ok())
        {
            Some(index) if index.format == FORMAT => index,
            _ => Index::empty(),
        }
    }

    /// Brings the index in step with the store: skills installed or changed since it was
    /// built are read (through the store's seal check) and tokenized, removed ones dropped.
    /// A skill that cannot be read is left out, not fatal: search still works for the rest.
    pub fn refresh(&mut self, home: &SkillHome) -> Refreshed {
        let store = Store::new(home.clone());
        let current: BTreeMap<String, String> = store.current_versions().into_iter().collect();
        let mut changes = Refreshed::default();
        self.skills.retain(|name, _| {
            let keep = current.contains_key(name);
            if !keep {
                changes.dropped.push(name.clone());
            }
            keep
        });
        for (name, version_key) in current {
            if self
                .skills
                .get(&name)
                .is_some_and(|s| s.version_key == version_key)
            {
                continue;
            }
            let Ok(skill) = store.get(&name) else {
                if self.skills.remove(&name).is_some() {
                    changes.dropped.push(name);
                }
                continue;
            };
            self.insert(&version_key, &skill.manifest, skill.skill_md.as_deref());
            changes.indexed.push(name);
        }
        changes
    }

    /// Indexes (or re-indexes) one skill. `version_key` changes whenever the skill does.
    pub fn insert(
        &mut self,
        version_key: &str,
        manifest: &skill_manifest::manifest::PackageManifest,
        skill_md: Option<&str>,
    ) {
        let tools = document::entries(manifest, skill_md)
            .into_iter()
            .map(|(entry, fields)| IndexedTool {
                terms: scoring::weighted_terms(&fields),
                entry,
            })
            .collect();
        self.skills.insert(
            manifest.name.clone(),
            IndexedSkill {
                version_key: version_key.to_string(),
                tools,
            },
        );
    }

    /// An empty index (for a corpus that is not a store).
    pub fn empty() -> Index {
        Index {
            format: FORMAT,
            skills: BTreeMap::new(),
        }
    }

    /// Saves the index (atomically: a reader sees the old one or the new one).
    pub fn save(&self, home: &SkillHome) -> Result<()> {
        let dir = home.index_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| skill_manifest::Error::io("create directory", &dir, e))?;
        let json = serde_json::to_vec(self).expect("the index serializes");
        skill_store::fsutil::write_atomic(&index_file(home), &json)
    }

    /// The index, refreshed and saved when the store changed since it was last saved.
    pub fn open(home: &SkillHome) -> Index {
        let mut index = Index::load(home);
        if !index.refresh(home).is_empty() {
            // A read-only home still searches; the next writer saves.
            let _ = index.save(home);
        }
        index
    }

    /// Every indexed tool, by skill then tool name.
    pub fn entries(&self) -> impl Iterator<Item = &ToolEntry> {
        self.skills
            .values()
            .flat_map(|s| s.tools.iter().map(|t| &t.entry))
    }

    pub fn len(&self) -> usize {
        self.skills.values().map(|s| s.tools.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tools best matching `query` by their words (BM25), best first, at most `limit`.
    /// Tools sharing no word with the query are not returned.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit<'_>> {
        let mut hits = self.keyword_ranking(query);
        hits.truncate(limit);
        hits
    }

    /// Every tool sharing a word with `query`, best first.
    fn keyword_ranking(&self, query: &str) -> Vec<Hit<'_>> {
        let query_terms = scoring::query_terms(query);
        if query_terms.is_empty() {
            return Vec::new();
        }
        let tools: Vec<&IndexedTool> = self.tools().collect();
        let bm25 = Bm25::new(tools.iter().map(|t| t.terms.as_slice()), &query_terms);
        let mut hits: Vec<Hit<'_>> = tools
            .iter()
            .filter_map(|t| {
                let score = bm25.score(&t.terms);
                (score > 0.0).then_some(Hit {
                    score,
                    entry: &t.entry,
                })
            })
            .collect();
        sort(&mut hits);
        hits
    }

    /// Every tool by how close its meaning is to the query's vector (the mean similarity of
    /// its views), best first.
    fn semantic_ranking<'a>(&'a self, vectors: &Vectors, query: &[f32]) -> Vec<Hit<'a>> {
        let mut hits: Vec<Hit<'_>> = self
            .skills
            .iter()
            .flat_map(|(name, skill)| {
                let found = vectors.of(name, &skill.version_key);
                skill.tools.iter().enumerate().filter_map(move |(i, t)| {
                    let views = found?.get(i * VIEWS..(i + 1) * VIEWS)?;
                    // A query of another size (a server that changed models) matches nothing.
                    if views.iter().any(|v| v.len() != query.len()) {
                        return None;
                    }
                    let similarity: f32 = views
                        .iter()
                        .map(|v| embed::similarity(v, query))
                        .sum::<f32>()
                        / VIEWS as f32;
                    Some(Hit {
                        score: similarity,
                        entry: &t.entry,
                    })
                })
            })
            .collect();
        sort(&mut hits);
        hits
    }

    /// The tools best matching `query` by meaning (`Semantic`), or by meaning with words as a
    /// tie-breaker (`Hybrid`: the similarity plus [`KEYWORD_WEIGHT`] times the BM25 score
    /// relative to the best one).
    pub fn search_with(
        &self,
        query: &str,
        limit: usize,
        mode: Mode,
        vectors: &Vectors,
        query_vector: &[f32],
    ) -> Vec<Hit<'_>> {
        let mut hits = match mode {
            Mode::Keywords => self.keyword_ranking(query),
            Mode::Semantic => self.semantic_ranking(vectors, query_vector),
            Mode::Hybrid => {
                let keywords = self.keyword_ranking(query);
                let best = keywords.first().map_or(1.0, |h| h.score);
                let keyword_score: BTreeMap<(&str, &str), f32> = keywords
                    .iter()
                    .map(|h| {
                        (
                            (h.entry.skill.as_str(), h.entry.tool.as_str()),
                            h.score / best,
                        )
                    })
                    .collect();
                let mut hits = self.semantic_ranking(vectors, query_vector);
                for hit in &mut hits {
                    let key = (hit.entry.skill.as_str(), hit.entry.tool.as_str());
                    hit.score += KEYWORD_WEIGHT * keyword_score.get(&key).copied().unwrap_or(0.0);
                }
                sort(&mut hits);
                hits
            }
        };
        hits.truncate(limit);
        hits
    }

    fn tools(&self) -> impl Iterator<Item = &IndexedTool> {
        self.skills.values().flat_map(|s| &s.tools)
    }
}

/// How [`Index::search_with`] ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Keywords,
    Semantic,
    Hybrid,
}

/// How much words count beside meaning in [`Mode::Hybrid`]. Measured on the labelled set
/// (docs/discovery.md): reciprocal rank fusion, and larger weights, let a tool sharing one
/// incidental word with a paraphrased request push out the tool it meant.
pub const KEYWORD_WEIGHT: f32 = 0.1;

fn sort(hits: &mut [Hit<'_>]) {
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.entry.skill.cmp(&b.entry.skill))
            .then_with(|| a.entry.tool.cmp(&b.entry.tool))
    });
}

/// Drops from the saved index every skill that is no longer installed as it was indexed,
/// without indexing anything (no tokenizer is needed, so a small binary can call it).
pub fn forget_changed(home: &SkillHome) -> Result<()> {
    let mut index = Index::load(home);
    let current: BTreeMap<String, String> = Store::new(home.clone())
        .current_versions()
        .into_iter()
        .collect();
    let before = index.skills.len();
    index
        .skills
        .retain(|name, skill| current.get(name) == Some(&skill.version_key));
    if index.skills.len() == before {
        return Ok(());
    }
    index.save(home)
}

/// Brings the saved index in step with the store: what install, update and remove call.
/// Returns what changed. Failing to save is an error for the caller to show as a warning;
/// the next query refreshes again.
pub fn update(home: &SkillHome) -> Result<Refreshed> {
    let mut index = Index::load(home);
    let changes = index.refresh(home);
    if !changes.is_empty() {
        index.save(home)?;
    }
    Ok(changes)
}

/// Embeds, with the local model, the tools installed or changed since its vectors were made,
/// when the model is installed: what install, update and `skill doctor --install` do so that
/// the next `skill find` does no work. The model is not even loaded when nothing changed.
pub fn embed_with_local_model(home: &SkillHome) -> Result<()> {
    let Some(dir) = embed::find_local_model(home) else {
        return Ok(());
    };
    let index = Index::load(home);
    let id = format!("local:{}", embed::LOCAL_MODEL);
    let mut vectors = Vectors::load(home, &id);
    if !vectors.is_stale(&index) {
        return Ok(());
    }
    let model = embed::LocalModel::load(&dir)?;
    vectors.refresh(&index, &model)?;
    vectors.save(home)
}
