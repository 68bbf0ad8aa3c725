//! Sentence embeddings for semantic search: a local model (all-MiniLM-L6-v2 run by candle on
//! the CPU), or a server that speaks Ollama's `/api/embed` or OpenAI's `/v1/embeddings`.
//!
//! FastEmbed, the usual choice, downloads ONNX Runtime when it is built, which cannot happen
//! where only package registries are reachable; candle is pure Rust and runs the same model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use skill_manifest::{Error, Result};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// The local model's name, and the folder name it is looked for under.
pub const LOCAL_MODEL: &str = "all-MiniLM-L6-v2";
/// The files the local model needs.
const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// Longest input, in tokens (what the model was trained with).
const MAX_TOKENS: usize = 256;
/// Texts embedded at once by the local model (bounds its memory).
const BATCH: usize = 16;
/// A remote provider's answer is at most this large, and must come within this time.
const MAX_RESPONSE: u64 = 64 << 20;
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest embedding a server may answer (the largest common models give 3072 or 4096).
const MAX_DIMENSIONS: usize = 8192;
/// Texts per request to a server: with the answer capped by what they can need, what one
/// answer costs to read stays a few MiB, however the server pads it.
const REMOTE_BATCH: usize = 16;
/// The most JSON one number of an honest answer takes (`-0.012345678901234567,`).
const MAX_NUMBER_BYTES: u64 = 24;

/// Ollama's `/api/embed` answer.
#[derive(serde::Deserialize)]
struct OllamaAnswer {
    embeddings: Vec<Vec<f32>>,
}

/// An OpenAI-compatible `/v1/embeddings` answer.
#[derive(serde::Deserialize)]
struct OpenAiAnswer {
    data: Vec<OpenAiEmbedding>,
}

#[derive(serde::Deserialize)]
struct OpenAiEmbedding {
    embedding: Vec<f32>,
}

/// What turns text into vectors.
/// Send + Sync: `skill serve` keeps one for every search of every session.
pub trait Embedder: Send + Sync {
    /// Names the provider and model: vectors of different ids are never compared.
    fn id(&self) -> String;
    /// One unit-length vector per text, in order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

/// What `search.provider`, `search.url` and `search.model` (or `skill find`'s flags) name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provider {
    /// auto, local, ollama, openai or none; empty is auto.
    pub name: String,
    /// The server of ollama or openai; empty for its default.
    pub url: String,
    /// The server's model; empty for its default.
    pub model: String,
}

impl Provider {
    /// The embedder this names; None for words only (`none`, or `auto` without a model).
    /// Loads the local model when it is the one; contacts no server.
    pub fn embedder(&self, home: &skill_store::SkillHome) -> Result<Option<Box<dyn Embedder>>> {
        let or = |value: &str, default: &str| {
            if value.is_empty() {
                default.to_string()
            } else {
                value.to_string()
            }
        };
        let openai_url = or(&self.url, "https://api.openai.com");
        // OPENAI_API_KEY is the user's key for OpenAI: it goes to OpenAI only, never to
        // another OpenAI-compatible server that search.url names.
        let to_openai = reqwest::Url::parse(&openai_url)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str() == Some("api.openai.com"));
        let key = std::env::var("SKILL_SEARCH_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .or_else(|| {
                std::env::var("OPENAI_API_KEY")
                    .ok()
                    .filter(|k| !k.is_empty() && to_openai)
            });
        Ok(match self.name.as_str() {
            "none" => None,
            "auto" | "" => match find_local_model(home) {
                Some(dir) => Some(Box::new(LocalModel::load(&dir)?)),
                None => None,
            },
            "local" => {
                let dir = find_local_model(home).ok_or_else(|| {
                    Error::not_found(format!("the search model {LOCAL_MODEL} is not installed"))
                        .with_hint(
                            "install it with `skill doctor --install`, or search by words: --provider none",
                        )
                })?;
                Some(Box::new(LocalModel::load(&dir)?))
            }
            "ollama" => Some(Box::new(Remote::new(
                Api::Ollama,
                &or(&self.url, "http://127.0.0.1:11434"),
                &or(&self.model, "all-minilm"),
                None,
            )?)),
            "openai" => Some(Box::new(Remote::new(
                Api::OpenAi,
                &openai_url,
                &or(&self.model, "text-embedding-3-small"),
                key,
            )?)),
            other => {
                return Err(Error::invalid(format!(
                    "unknown search provider `{}`",
                    skill_manifest::text::escape(other, false)
                ))
                .with_hint("use auto, local, ollama, openai or none"));
            }
        })
    }

    /// Whether it names a server (Ollama, OpenAI-compatible).
    pub fn is_remote(&self) -> bool {
        matches!(self.name.as_str(), "ollama" | "openai")
    }

    /// Whether it names a server (checked at once, without contacting it) rather than the
    /// local model, which is loaded when first needed.
    pub fn check(&self, home: &skill_store::SkillHome) -> Result<()> {
        match self.name.as_str() {
            "auto" | "" | "local" | "none" => Ok(()),
            _ => self.embedder(home).map(|_| ()),
        }
    }
}

/// Where the local model's files are: `$SKILL_MODEL_DIR`, then
/// `$SKILL_HOME/models/all-MiniLM-L6-v2`, then a Hugging Face hub cache
/// (`$HF_HOME/hub`, `~/.cache/huggingface/hub`) holding `sentence-transformers/all-MiniLM-L6-v2`.
pub fn find_local_model(home: &skill_store::SkillHome) -> Option<PathBuf> {
    let complete = |dir: &Path| MODEL_FILES.iter().all(|f| dir.join(f).is_file());
    if let Some(dir) = std::env::var_os("SKILL_MODEL_DIR").map(PathBuf::from) {
        return complete(&dir).then_some(dir);
    }
    let installed = local_model_dir(home);
    if complete(&installed) {
        return Some(installed);
    }
    let hub = std::env::var_os("HF_HOME")
        .map(|h| PathBuf::from(h).join("hub"))
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
        })?;
    let snapshots = hub.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots");
    let mut found: Vec<PathBuf> = std::fs::read_dir(snapshots)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| complete(p))
        .collect();
    found.sort();
    found.pop()
}

/// Where `skill` installs the local model.
pub fn local_model_dir(home: &skill_store::SkillHome) -> PathBuf {
    home.root().join("models").join(LOCAL_MODEL)
}

/// all-MiniLM-L6-v2 on the CPU: mean pooling over the last layer, then L2 normalization (as
/// sentence-transformers does).
pub struct LocalModel {
    model: BertModel,
    tokenizer: Tokenizer,
}

fn model_error(dir: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid(format!(
        "the embedding model in {} cannot be loaded: {e}",
        dir.display()
    ))
    .with_hint("reinstall it with `skill doctor --install`, or search without it (--provider none)")
}

impl LocalModel {
    pub fn load(dir: &Path) -> Result<LocalModel> {
        let config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| Error::io("read", &dir.join("config.json"), e))?;
        let config: Config = serde_json::from_str(&config).map_err(|e| model_error(dir, e))?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| model_error(dir, e))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| model_error(dir, e))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|e| Error::io("read", &weights, e))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| model_error(dir, e))?;
        let model = BertModel::load(vb, &config).map_err(|e| model_error(dir, e))?;
        Ok(LocalModel { model, tokenizer })
    }

    fn embed_batch(&self, texts: &[String]) -> candle_core::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(candle_core::Error::msg)?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<u32>| -> candle_core::Result<Tensor> {
            let rows: Vec<Tensor> = encodings
                .iter()
                .map(|e| Tensor::new(f(e).as_slice(), &Device::Cpu))
                .collect::<candle_core::Result<_>>()?;
            Tensor::stack(&rows, 0)
        };
        let ids = rows(&|e| e.get_ids().to_vec())?;
        let types = rows(&|e| e.get_type_ids().to_vec())?;
        let mask = rows(&|e| e.get_attention_mask().to_vec())?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens (padding masked out).
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

impl Embedder for LocalModel {
    fn id(&self) -> String {
        format!("local:{LOCAL_MODEL}")
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            let vectors = self
                .embed_batch(chunk)
                .map_err(|e| Error::internal(format!("the embedding model failed: {e}")))?;
            out.extend(vectors);
        }
        Ok(out)
    }
}

/// A server's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST {url}/api/embed` with `{"model", "input": [...]}` → `{"embeddings": [[...]]}`.
    Ollama,
    /// `POST {url}/v1/embeddings` with `{"model", "input": [...]}` → `{"data": [{"embedding"}]}`.
    OpenAi,
}

/// An embedding server (Ollama, OpenAI, or anything that speaks one of their APIs).
pub struct Remote {
    api: Api,
    url: String,
    model: String,
    key: Option<String>,
    client: reqwest::blocking::Client,
}

impl Remote {
    /// `key` is sent only over HTTPS, or to a server on this machine: a key must not cross a
    /// network in the clear.
    pub fn new(api: Api, url: &str, model: &str, key: Option<String>) -> Result<Remote> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            Error::invalid(format!("`{url}` is not a URL: {e}"))
                .with_hint("e.g. http://127.0.0.1:11434 or https://api.openai.com")
        })?;
        let host = parsed
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']']);
        let local = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let key = key.filter(|_| parsed.scheme() == "https" || local);
        let client = reqwest::blocking::Client::builder()
            .timeout(REMOTE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("cannot start an HTTP client: {e}")))?;
        Ok(Remote {
            api,
            url: url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            key,
            client,
        })
    }

    fn endpoint(&self) -> String {
        match self.api {
            Api::Ollama => format!("{}/api/embed", self.url),
            Api::OpenAi if self.url.ends_with("/v1") => format!("{}/embeddings", self.url),
            Api::OpenAi => format!("{}/v1/embeddings", self.url),
        }
    }
}

impl Embedder for Remote {
    fn id(&self) -> String {
        let api = match self.api {
            Api::Ollama => "ollama",
            Api::OpenAi => "openai",
        };
        format!("{api}:{}:{}", self.url, self.model)
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        use std::io::Read;
        let endpoint = self.endpoint();
        let failed = |what: String| {
            Error::new(
                skill_manifest::ErrorKind::Io,
                format!("the embedding server at {endpoint} {what}"),
            )
            .with_hint("check --url and --model (or settings search.url, search.model), or search without it: --provider none")
        };
        let started = std::time::Instant::now();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(REMOTE_BATCH) {
            let mut request = self
                .client
                .post(&endpoint)
                .json(&serde_json::json!({ "model": self.model, "input": chunk }));
            if let Some(key) = &self.key {
                request = request.bearer_auth(key);
            }
            let response = request
                .send()
                .map_err(|e| failed(format!("did not answer: {e}")))?;
            let status = response.status();
            // The client's timeout bounds each read, not the whole answer: a server sending a
            // byte a second would never be cut off. The deadline is checked between reads.
            // What an honest answer can need: MAX_DIMENSIONS numbers a text. A query's answer
            // is then at most about 200 KiB, a batch's 3 MiB.
            let limit = (chunk.len() as u64 * MAX_DIMENSIONS as u64 * MAX_NUMBER_BYTES
                + (64 << 10))
                .min(MAX_RESPONSE);
            let mut body = Vec::new();
            let mut response = response.take(limit);
            let mut buffer = [0u8; 16 << 10];
            loop {
                if started.elapsed() > REMOTE_TIMEOUT {
                    return Err(failed(format!(
                        "did not finish answering within {} s",
                        REMOTE_TIMEOUT.as_secs()
                    )));
                }
                match response.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => body.extend_from_slice(&buffer[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(failed(format!("broke off its answer: {e}"))),
                }
            }
            if body.len() as u64 >= limit {
                return Err(failed(format!(
                    "answered more than {} KiB for {} texts",
                    limit >> 10,
                    chunk.len()
                )));
            }
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                return Err(failed(format!(
                    "answered {status}: {}",
                    skill_manifest::text::escape(&text, false)
                )));
            }
            // Read straight into numbers (4 bytes each), not a JSON tree (about 16 times the
            // answer's size).
            let vectors: Vec<Vec<f32>> = match self.api {
                Api::Ollama => serde_json::from_slice::<OllamaAnswer>(&body).map(|a| a.embeddings),
                Api::OpenAi => serde_json::from_slice::<OpenAiAnswer>(&body)
                    .map(|a| a.data.into_iter().map(|d| d.embedding).collect()),
            }
            .map_err(|e| failed(format!("answered no usable embeddings: {e}")))?;
            if vectors.len() != chunk.len() {
                return Err(failed(format!(
                    "answered {} embeddings for {} texts",
                    vectors.len(),
                    chunk.len()
                )));
            }
            // Checked per answer, so that nothing unusable piles up across batches.
            let dims = out.first().unwrap_or(&vectors[0]).len();
            for v in vectors {
                if v.len() != dims || dims == 0 || dims > MAX_DIMENSIONS {
                    return Err(failed(format!(
                        "answered embeddings of unusable sizes ({dims} and {})",
                        v.len()
                    )));
                }
                if !v.iter().all(|x| x.is_finite()) {
                    return Err(failed(
                        "answered an embedding that is not numbers".to_string(),
                    ));
                }
                out.push(normalized(v));
            }
        }
        Ok(out)
    }
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Cosine similarity of two unit vectors.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
