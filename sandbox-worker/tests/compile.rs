//! Compile jobs, precompiled code and the engine fingerprint.

mod common;

use sandbox_runner::{CompileError, OutputKind, PluginCode, RunOutcome};

#[tokio::test]
async fn precompiled_code_runs() {
    let runner = common::runner();
    let code = runner
        .compile(&common::component("text-analyzer"))
        .await
        .unwrap();

    let mut request = common::request("text-analyzer", "One two three. Four five six.");
    request.plugin = PluginCode::Precompiled(code);
    let report = runner.run(request).await.unwrap();

    let RunOutcome::Ok { output } = &report.outcome else {
        panic!("precompiled run failed: {report:?}");
    };
    assert_eq!(output.kind, OutputKind::Json);
    assert!(output.value.contains("\"words\":6"), "{}", output.value);
}

#[tokio::test]
async fn invalid_component_fails_to_compile() {
    let runner = common::runner();

    let error = runner.compile(b"not wasm").await.unwrap_err();

    assert!(
        matches!(error, CompileError::InvalidComponent(_)),
        "{error}"
    );
}

#[tokio::test]
async fn corrupt_precompiled_code_is_invalid_plugin() {
    let runner = common::runner();
    let mut request = common::request("text-analyzer", "note");
    request.plugin = PluginCode::Precompiled(vec![0x7f, b'E', b'L', b'F', 0, 0, 0, 0]);

    let report = runner.run(request).await.unwrap();

    assert!(
        matches!(report.outcome, RunOutcome::InvalidPlugin { .. }),
        "{report:?}"
    );
}

#[tokio::test]
async fn engine_fingerprint_is_stable_hex() {
    let first = common::runner()
        .engine_fingerprint()
        .await
        .unwrap()
        .to_owned();
    let second = common::runner()
        .engine_fingerprint()
        .await
        .unwrap()
        .to_owned();

    assert_eq!(first.len(), 64, "{first}");
    assert!(
        first.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{first}"
    );
    assert_eq!(first, second);
}
