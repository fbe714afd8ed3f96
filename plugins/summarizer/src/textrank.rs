//! TextRank sentence ranking (Mihalcea and Tarau, "TextRank: Bringing Order
//! into Texts", EMNLP 2004).
//!
//! Sentences are the nodes of an undirected graph. Two sentences are joined by
//! an edge weighted by the paper's similarity: the number of distinct terms they
//! share divided by `log10(len1) + log10(len2)`, where a length counts terms with
//! repeats. A weighted PageRank over that graph scores each sentence.

/// Probability that the random walk follows an edge rather than jumping.
const DAMPING: f64 = 0.85;
/// Upper bound on PageRank iterations; graphs of prose converge in far fewer.
const MAX_ITERATIONS: usize = 200;
/// The iteration stops once no score moves by more than this.
const TOLERANCE: f64 = 1e-12;

/// Scores sentences given the term ids of each, repeats included. A sentence
/// that shares no term with any other scores 0. When no two sentences share a
/// term, every sentence scores 0.
///
/// Time is quadratic in the number of sentences, so callers cap it.
pub(crate) fn rank_sentences(terms: &[Vec<u32>]) -> Vec<f64> {
    let graph = similarity_graph(terms);
    pagerank(&graph)
}

/// Adjacency lists: `graph[i]` holds `(j, weight)` for every sentence `j` that
/// shares a term with sentence `i`.
type Graph = Vec<Vec<(usize, f64)>>;

fn similarity_graph(terms: &[Vec<u32>]) -> Graph {
    let distinct: Vec<Vec<u32>> = terms
        .iter()
        .map(|t| {
            let mut set = t.clone();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    #[allow(clippy::cast_precision_loss)] // sentence lengths are far below 2^52
    let log_lengths: Vec<f64> = terms.iter().map(|t| (t.len() as f64).log10()).collect();

    let mut graph: Graph = vec![Vec::new(); terms.len()];
    for i in 0..terms.len() {
        for j in i + 1..terms.len() {
            let denominator = log_lengths[i] + log_lengths[j];
            if denominator <= 0.0 {
                continue;
            }
            let shared = count_shared(&distinct[i], &distinct[j]);
            if shared == 0 {
                continue;
            }
            #[allow(clippy::cast_precision_loss)]
            let weight = shared as f64 / denominator;
            graph[i].push((j, weight));
            graph[j].push((i, weight));
        }
    }
    graph
}

/// Counts the elements two sorted, deduplicated slices have in common.
fn count_shared(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

/// Runs weighted PageRank by power iteration over the nodes that have edges.
/// Isolated nodes score 0.
fn pagerank(graph: &Graph) -> Vec<f64> {
    let connected: Vec<usize> = (0..graph.len()).filter(|&i| !graph[i].is_empty()).collect();
    let mut scores = vec![0.0; graph.len()];
    if connected.is_empty() {
        return scores;
    }

    let strengths: Vec<f64> = graph
        .iter()
        .map(|edges| edges.iter().map(|(_, w)| w).sum())
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let node_count = connected.len() as f64;
    for &i in &connected {
        scores[i] = 1.0 / node_count;
    }

    let mut next = scores.clone();
    for _ in 0..MAX_ITERATIONS {
        let mut max_change: f64 = 0.0;
        for &i in &connected {
            let inflow: f64 = graph[i]
                .iter()
                .map(|&(j, w)| scores[j] * w / strengths[j])
                .sum();
            next[i] = (1.0 - DAMPING) / node_count + DAMPING * inflow;
            max_change = max_change.max((next[i] - scores[i]).abs());
        }
        std::mem::swap(&mut scores, &mut next);
        if max_change <= TOLERANCE {
            break;
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_terms_are_counted_once() {
        assert_eq!(count_shared(&[1, 2, 3, 7], &[2, 3, 4, 7, 9]), 3);
        assert_eq!(count_shared(&[], &[1]), 0);
    }

    #[test]
    fn central_sentence_ranks_first() {
        // Sentence 1 shares terms with both others; 0 and 2 share nothing.
        let terms = vec![vec![1, 2, 9], vec![1, 2, 3, 4], vec![3, 4, 8]];
        let scores = rank_sentences(&terms);
        assert!(scores[1] > scores[0], "{scores:?}");
        assert!(scores[1] > scores[2], "{scores:?}");
    }

    #[test]
    fn isolated_sentence_scores_zero() {
        let terms = vec![vec![1, 2], vec![1, 2, 3], vec![7, 8]];
        let scores = rank_sentences(&terms);
        assert_eq!(scores[2], 0.0);
        assert!(scores[0] > 0.0);
    }

    #[test]
    fn single_term_sentences_have_no_edge() {
        // log10(1) + log10(1) is 0, so the paper's similarity is undefined.
        assert_eq!(rank_sentences(&[vec![5], vec![5]]), vec![0.0, 0.0]);
    }

    #[test]
    fn scores_form_a_distribution() {
        let terms = vec![vec![1, 2, 3], vec![2, 3, 4], vec![3, 4, 5], vec![1, 5, 6]];
        let total: f64 = rank_sentences(&terms).iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }
}
