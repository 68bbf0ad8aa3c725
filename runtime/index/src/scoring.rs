//! Tokens and BM25 (Robertson/Spärck Jones, with the usual k1 = 1.2, b = 0.75). Fields are
//! weighted by multiplying their term frequencies (a simple BM25F).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use bm25::{DefaultTokenizer, Language, Tokenizer};

const K1: f32 = 1.2;
const B: f32 = 0.75;

fn tokenizer() -> &'static DefaultTokenizer {
    static TOKENIZER: OnceLock<DefaultTokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| DefaultTokenizer::new(Language::English))
}

/// Lowercased, stemmed words without stop words. Identifiers are split first: `s3_list`,
/// `listIssues` and `list-issues` all give `list` and the other word.
pub fn tokens(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_uppercase() && previous_lower {
            spaced.push(' ');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        spaced.push(if c == '_' { ' ' } else { c });
    }
    tokenizer().tokenize(&spaced)
}

/// Term frequencies over weighted fields.
pub fn weighted_terms(fields: &[(f32, String)]) -> Vec<(String, f32)> {
    let mut tf: BTreeMap<String, f32> = BTreeMap::new();
    for (weight, text) in fields {
        for token in tokens(text) {
            *tf.entry(token).or_default() += weight;
        }
    }
    tf.into_iter().collect()
}

/// The query's distinct terms.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms = tokens(query);
    terms.sort();
    terms.dedup();
    terms
}

/// Corpus statistics for one query: each query term's IDF, and the mean document length.
pub struct Bm25 {
    idf: HashMap<String, f32>,
    average_length: f32,
}

fn length(terms: &[(String, f32)]) -> f32 {
    terms.iter().map(|(_, f)| f).sum()
}

impl Bm25 {
    pub fn new<'a>(documents: impl Iterator<Item = &'a [(String, f32)]>, query: &[String]) -> Bm25 {
        let mut containing: HashMap<&str, u32> = query.iter().map(|t| (t.as_str(), 0)).collect();
        let (mut count, mut total) = (0u32, 0f32);
        for doc in documents {
            count += 1;
            total += length(doc);
            for term in query {
                if doc.binary_search_by(|(t, _)| t.as_str().cmp(term)).is_ok() {
                    *containing.get_mut(term.as_str()).expect("query term") += 1;
                }
            }
        }
        let n = count as f32;
        let idf = containing
            .into_iter()
            .map(|(term, df)| {
                let df = df as f32;
                (term.to_string(), ((n - df + 0.5) / (df + 0.5) + 1.0).ln())
            })
            .collect();
        Bm25 {
            idf,
            average_length: if count == 0 {
                1.0
            } else {
                (total / n).max(1.0)
            },
        }
    }

    pub fn score(&self, doc: &[(String, f32)]) -> f32 {
        let norm = K1 * (1.0 - B + B * length(doc) / self.average_length);
        self.idf
            .iter()
            .filter_map(|(term, idf)| {
                let i = doc.binary_search_by(|(t, _)| t.cmp(term)).ok()?;
                let tf = doc[i].1;
                Some(idf * tf * (K1 + 1.0) / (tf + norm))
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words_and_words_are_stemmed() {
        assert_eq!(tokens("listIssues"), ["list", "issu"]);
        assert_eq!(tokens("s3_list buckets"), ["s3", "list", "bucket"]);
        assert_eq!(tokens("the-listing of the issues"), ["list", "issu"]);
    }

    #[test]
    fn a_rarer_word_and_a_shorter_document_score_higher() {
        let a = weighted_terms(&[(1.0, "send email message".into())]);
        let b = weighted_terms(&[(
            1.0,
            "send slack message to a channel with many other words".into(),
        )]);
        let c = weighted_terms(&[(1.0, "read file".into())]);
        let docs = [a.as_slice(), b.as_slice(), c.as_slice()];
        let q = query_terms("send an email");
        let bm25 = Bm25::new(docs.iter().copied(), &q);
        assert!(bm25.score(&a) > bm25.score(&b));
        assert!(bm25.score(&b) > 0.0);
        assert_eq!(bm25.score(&c), 0.0);
    }
}
