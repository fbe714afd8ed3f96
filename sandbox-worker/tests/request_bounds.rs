//! The worker checks the announced request size before it allocates.

mod common;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn oversized_request_rejected_before_reading() {
    let runner = common::runner();
    let mut worker = runner.spawn_idle_worker().unwrap();

    let mut header = Vec::from(sandbox_protocol::MAGIC);
    header.extend_from_slice(&sandbox_protocol::PROTOCOL_VERSION.to_be_bytes());
    header.extend_from_slice(&u32::MAX.to_be_bytes());
    let mut stdin = worker.stdin.take().unwrap();
    stdin.write_all(&header).await.unwrap();
    drop(stdin);

    let mut stderr = String::new();
    worker
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = worker.wait().await.unwrap();

    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exceeds the maximum"), "{stderr}");
}

#[tokio::test]
async fn wrong_protocol_version_rejected() {
    let runner = common::runner();
    let mut worker = runner.spawn_idle_worker().unwrap();

    let mut header = Vec::from(sandbox_protocol::MAGIC);
    header.extend_from_slice(&(sandbox_protocol::PROTOCOL_VERSION + 1).to_be_bytes());
    header.extend_from_slice(&0u32.to_be_bytes());
    let mut stdin = worker.stdin.take().unwrap();
    stdin.write_all(&header).await.unwrap();
    drop(stdin);

    let mut stderr = String::new();
    worker
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = worker.wait().await.unwrap();

    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unsupported protocol version"), "{stderr}");
}
