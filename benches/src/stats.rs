//! Latency samples and their summary figures.

use std::time::Duration;

/// Latencies of one benchmark case and the wall time they took.
#[derive(Debug, Clone)]
pub struct Samples {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Samples {
    /// Wraps `latencies` measured over `elapsed` wall time.
    pub fn new(mut latencies: Vec<Duration>, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        Self { latencies, elapsed }
    }

    /// Number of operations measured.
    pub fn count(&self) -> usize {
        self.latencies.len()
    }

    /// Median latency; zero without samples.
    pub fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    /// 99th-percentile latency (nearest rank); zero without samples.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// Operations per second over the whole wall time.
    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds == 0.0 {
            return 0.0;
        }
        self.latencies.len() as f64 / seconds
    }

    fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Least-squares slope and intercept of `points` (x, y).
pub fn linear_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if variance == 0.0 {
        return None;
    }
    let slope = covariance / variance;
    Some((slope, mean_y - slope * mean_x))
}

/// Formats a duration in microseconds with one decimal.
pub fn micros(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_use_nearest_rank() {
        let latencies = (1..=100).map(Duration::from_micros).collect();
        let samples = Samples::new(latencies, Duration::from_secs(1));

        assert_eq!(samples.median(), Duration::from_micros(50));
        assert_eq!(samples.p99(), Duration::from_micros(99));
        assert_eq!(samples.throughput(), 100.0);
    }

    #[test]
    fn linear_fit_recovers_a_line() {
        let points = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)];

        let (slope, intercept) = linear_fit(&points).unwrap();

        assert!((slope - 2.0).abs() < 1e-12);
        assert!((intercept - 1.0).abs() < 1e-12);
    }
}
