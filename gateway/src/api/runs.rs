//! `POST /v1/notes/{id}/runs`: runs a plugin on one of the caller's notes.
//!
//! The request takes a run slot first, so an overloaded gateway turns callers
//! away (503 with `Retry-After`) before it decrypts anything. The note must be
//! the caller's and the plugin the caller's or public; anything else is a 404.
//! The decrypted note goes into the worker request and is zeroized once
//! written; the output is checked for its declared kind before it is returned.
//!
//! Telemetry: decryption happens in a `note.decrypt` span and the run in a
//! `plugin.run` span whose attributes are the plugin's SHA-256, the outcome,
//! fuel used, peak memory and duration; the worker is a `sandbox.worker`
//! child of it. Outcomes, figures and sandbox kills are also counted in
//! metrics. Neither spans nor logs carry the note, the args, the output or
//! the plugin's log lines.

use axum::Json;
use axum::extract::{Path, State};
use plugin_registry::PluginDigest;
use sandbox_protocol::NoteContent;
use sandbox_runner::{RunOutcome, RunReport};
use serde::{Deserialize, Serialize};
use tracing::{Instrument as _, Span};
use zeroize::Zeroize;

use super::ApiJson;
use super::notes::{parse_note_id, user_note_key};
use super::plugins::parse_plugin_id;
use crate::auth::AuthenticatedUser;
use crate::crypto::NoteField;
use crate::problem::{ApiError, RunFailure};
use crate::runs::output::{self, CheckedOutput};
use crate::runs::{ArtifactError, LogLineBody, RunError};
use crate::state::AppState;
use crate::telemetry::metrics::{RunFigures, metrics};

/// Body of the run route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunInput {
    plugin_id: String,
    /// Any JSON; passed to the plugin as text. Absent means `null`.
    #[serde(default)]
    args: Option<serde_json::Value>,
}

/// A successful run.
#[derive(Serialize)]
pub(super) struct RunBody {
    output: OutputBody,
    logs: Vec<LogLineBody>,
    fuel_used: u64,
    memory_peak_bytes: u64,
    duration_ms: f64,
}

/// Checked plugin output.
#[derive(Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub(super) enum OutputBody {
    Text(String),
    Json(serde_json::Value),
    Html(String),
}

/// Runs a plugin on a note; see the module docs.
pub(super) async fn run(
    State(state): State<AppState>,
    AuthenticatedUser(caller): AuthenticatedUser,
    Path(note_id): Path<String>,
    ApiJson(input): ApiJson<RunInput>,
) -> Result<Json<RunBody>, ApiError> {
    let runtime = state.runtime()?;
    let note_id = parse_note_id(&note_id)?;
    let plugin_id = parse_plugin_id(&input.plugin_id)?;

    let args = match &input.args {
        Some(value) => value.to_string(),
        None => "null".to_owned(),
    };
    if args.len() > runtime.max_args_bytes {
        return Err(ApiError::PayloadTooLarge(
            format!(
                "`args` is larger than the limit of {} bytes",
                runtime.max_args_bytes
            )
            .into(),
        ));
    }

    let _slot = runtime.slots.acquire().await.map_err(|_| {
        tracing::warn!(
            in_flight = runtime.slots.in_flight(),
            queued = runtime.slots.queued(),
            event = "run_rejected_busy",
            "plugin run turned away: every run slot is taken"
        );
        ApiError::Busy {
            retry_after_seconds: runtime.slots.retry_after_seconds(),
        }
    })?;

    let note = state
        .store
        .get_note(caller, note_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let plugin = state
        .store
        .get_visible_plugin(caller, plugin_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let digest = PluginDigest::from(plugin.sha256);

    let code = runtime
        .plugin_code(state.store.as_ref(), digest)
        .await
        .map_err(|error| artifact_problem(error, digest))?;

    let key = user_note_key(&state, caller).await?;
    let content = {
        let _decrypt = tracing::info_span!("note.decrypt").entered();
        let mut title = key.open(note_id, NoteField::Title, &note.title_sealed)?;
        let mut body = key.open(note_id, NoteField::Body, &note.body_sealed)?;
        let content = NoteContent {
            title: std::mem::take(&mut *title),
            body: std::mem::take(&mut *body),
        };
        title.zeroize();
        body.zeroize();
        content
    };

    let span = run_span(digest);
    async {
        tracing::debug!(plugin_sha256 = %digest, "plugin run started");
        let report = runtime
            .run(state.store.as_ref(), digest, code, args, content)
            .await
            .map_err(|error| run_error_problem(error, digest))?;
        finish(report, digest, runtime.guest.output_bytes)
    }
    .instrument(span)
    .await
}

/// The span of one plugin run. The outcome and the figures are recorded
/// when the run ends.
fn run_span(digest: PluginDigest) -> Span {
    tracing::info_span!(
        "plugin.run",
        plugin.sha256 = %digest,
        run.outcome = tracing::field::Empty,
        run.fuel_used = tracing::field::Empty,
        run.memory_peak_bytes = tracing::field::Empty,
        run.duration_ms = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}

/// Records how a run ended on its span and in the metrics. `report` is
/// `None` when the worker sent none.
fn record_run_end(outcome: &'static str, report: Option<&RunReport>) {
    let span = Span::current();
    span.record("run.outcome", outcome);
    if outcome != "ok" {
        span.record("otel.status_code", "error");
    }

    let figures = report.map(|report| RunFigures {
        duration: report.duration,
        fuel_used: report.fuel_used,
        memory_peak_bytes: report.memory_peak_bytes,
    });
    if let Some(figures) = figures {
        // As i64: tracing-opentelemetry 0.34 exports unsigned fields as
        // strings, and the attributes should be numbers.
        span.record("run.fuel_used", saturating_i64(figures.fuel_used));
        span.record(
            "run.memory_peak_bytes",
            saturating_i64(figures.memory_peak_bytes),
        );
        span.record("run.duration_ms", figures.duration.as_secs_f64() * 1000.0);
    }
    metrics().record_run(outcome, figures);
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Turns a run report into the response or the problem for its outcome.
fn finish(
    report: RunReport,
    digest: PluginDigest,
    max_output_bytes: u64,
) -> Result<Json<RunBody>, ApiError> {
    let logs = LogLineBody::from_lines(&report.logs);
    let failure = |failure: RunFailure, detail: String| {
        let outcome = match failure {
            RunFailure::OutputTooLarge => "output_too_large",
            RunFailure::InvalidOutput => "invalid_output",
            _ => report.outcome.name(),
        };
        record_run_end(outcome, Some(&report));
        log_run_failure(failure, outcome, &report, digest);
        ApiError::RunFailed {
            failure,
            detail,
            logs: logs.clone(),
        }
    };

    let output = match &report.outcome {
        RunOutcome::Ok { output } => output,
        other => return Err(outcome_problem(other, &failure)),
    };

    let limit = usize::try_from(max_output_bytes).unwrap_or(usize::MAX);
    let checked = match output::check(output.kind, &output.value, limit) {
        Ok(checked) => checked,
        Err(output::OutputError::TooLarge { size, limit }) => {
            return Err(failure(
                RunFailure::OutputTooLarge,
                format!(
                    "the plugin output is {size} bytes after checks, above the limit of {limit} bytes"
                ),
            ));
        }
        Err(error @ output::OutputError::InvalidJson(_)) => {
            return Err(failure(RunFailure::InvalidOutput, error.to_string()));
        }
    };

    record_run_end("ok", Some(&report));
    tracing::info!(
        plugin_sha256 = %digest,
        outcome = "ok",
        fuel_used = report.fuel_used,
        memory_peak_bytes = report.memory_peak_bytes,
        duration_us = report.duration.as_micros() as u64,
        "plugin run finished"
    );
    Ok(Json(RunBody {
        output: match checked {
            CheckedOutput::Text(text) => OutputBody::Text(text),
            CheckedOutput::Json(value) => OutputBody::Json(value),
            CheckedOutput::Html(html) => OutputBody::Html(html),
        },
        logs,
        fuel_used: report.fuel_used,
        memory_peak_bytes: report.memory_peak_bytes,
        duration_ms: report.duration.as_secs_f64() * 1000.0,
    }))
}

/// Logs a run that ended without output: a limit hit is a security event
/// at warn, other endings are at info. Sandbox failures are logged where
/// they are detected, in [`outcome_problem`].
fn log_run_failure(
    failure: RunFailure,
    outcome: &'static str,
    report: &RunReport,
    digest: PluginDigest,
) {
    match failure.limit() {
        Some(limit) => tracing::warn!(
            event = "run_limit_exceeded",
            plugin_sha256 = %digest,
            outcome,
            limit,
            fuel_used = report.fuel_used,
            memory_peak_bytes = report.memory_peak_bytes,
            "plugin run stopped at a limit"
        ),
        None => tracing::info!(
            plugin_sha256 = %digest,
            outcome,
            fuel_used = report.fuel_used,
            memory_peak_bytes = report.memory_peak_bytes,
            "plugin run ended without output"
        ),
    }
}

fn outcome_problem(
    outcome: &RunOutcome,
    failure: &dyn Fn(RunFailure, String) -> ApiError,
) -> ApiError {
    match outcome {
        RunOutcome::Ok { .. } => failure(RunFailure::Sandbox, "unexpected outcome".to_owned()),
        RunOutcome::PluginError { message } => failure(
            RunFailure::PluginError,
            format!(
                "the plugin returned an error: {}",
                output::strip_control_characters(message)
            ),
        ),
        RunOutcome::Trap { message } => failure(
            RunFailure::Trap,
            format!(
                "the plugin trapped: {}",
                output::strip_control_characters(message)
            ),
        ),
        RunOutcome::FuelExhausted => failure(
            RunFailure::FuelExhausted,
            "the plugin used up its fuel budget".to_owned(),
        ),
        RunOutcome::EpochDeadline => failure(
            RunFailure::Deadline,
            "the plugin ran past its time limit".to_owned(),
        ),
        RunOutcome::MemoryLimitExceeded { limit_bytes } => failure(
            RunFailure::MemoryLimit,
            format!("the plugin tried to grow its memory past the limit of {limit_bytes} bytes"),
        ),
        RunOutcome::TableLimitExceeded { limit_elements } => failure(
            RunFailure::TableLimit,
            format!("the plugin tried to grow a table past the limit of {limit_elements} elements"),
        ),
        RunOutcome::StackOverflow => failure(
            RunFailure::StackOverflow,
            "the plugin overflowed its stack".to_owned(),
        ),
        RunOutcome::OutputTooLarge {
            size_bytes,
            limit_bytes,
        } => failure(
            RunFailure::OutputTooLarge,
            format!(
                "the plugin output is {size_bytes} bytes, above the limit of {limit_bytes} bytes"
            ),
        ),
        RunOutcome::LogLimitExceeded { limit_bytes } => failure(
            RunFailure::LogLimit,
            format!("the plugin logged more than the limit of {limit_bytes} bytes"),
        ),
        RunOutcome::InvalidPlugin { .. } => failure(
            RunFailure::InvalidPlugin,
            "the plugin could not be loaded".to_owned(),
        ),
        RunOutcome::DeadlineExceeded { .. } => {
            metrics().record_sandbox_kill(SIGKILL);
            failure(
                RunFailure::Deadline,
                "the plugin ran past its time limit".to_owned(),
            )
        }
        RunOutcome::Crashed { exit_code, .. } => {
            tracing::error!(
                exit_code,
                event = "sandbox_crash",
                "sandbox worker crashed during a run"
            );
            failure(RunFailure::Sandbox, "the sandbox worker failed".to_owned())
        }
        RunOutcome::KilledBySignal { signal, .. } => {
            metrics().record_sandbox_kill(*signal);
            tracing::warn!(
                signal,
                event = "sandbox_kill",
                "sandbox worker was killed by a signal"
            );
            failure(
                RunFailure::Sandbox,
                format!("the sandbox worker was killed by signal {signal}"),
            )
        }
    }
}

fn artifact_problem(error: ArtifactError, digest: PluginDigest) -> ApiError {
    match error {
        ArtifactError::Invalid(_) => {
            tracing::warn!(plugin_sha256 = %digest, error = %error, "stored plugin does not compile");
            ApiError::RunFailed {
                failure: RunFailure::InvalidPlugin,
                detail: "the plugin does not compile with this server's engine".to_owned(),
                logs: Vec::new(),
            }
        }
        other => ApiError::internal(other),
    }
}

fn run_error_problem(error: RunError, digest: PluginDigest) -> ApiError {
    match error {
        RunError::Cancelled => {
            record_run_end("cancelled", None);
            tracing::warn!(
                plugin_sha256 = %digest,
                event = "run_cancelled",
                "plugin run cancelled at shutdown; its worker was killed"
            );
            ApiError::ShuttingDown
        }
        RunError::Runner(error) => {
            record_run_end("sandbox_error", None);
            tracing::error!(plugin_sha256 = %digest, %error, event = "sandbox_failure", "plugin run failed in the sandbox");
            ApiError::RunFailed {
                failure: RunFailure::Sandbox,
                detail: "the sandbox failed to run the plugin".to_owned(),
                logs: Vec::new(),
            }
        }
        RunError::Artifact(error) => {
            record_run_end("sandbox_error", None);
            artifact_problem(error, digest)
        }
    }
}

/// The signal the runner sends a worker past its wall-clock deadline.
const SIGKILL: i32 = 9;
