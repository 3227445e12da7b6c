//! The `MediaStore` against a real S3-compatible server: upload (multipart, over the buffer size), read back,
//! a range read and delete. `.ci/run` starts moto (`moto_server`, from PyPI) and sets
//! `FAIRLOOP_TEST_S3_ENDPOINT`; with `FAIRLOOP_REQUIRE_S3=1` a missing endpoint fails the test instead of
//! skipping it, so a broken CI step cannot hide.

#![cfg(feature = "s3")]

use fairloop_media::store::ByteRange;
use fairloop_media::{MediaError, MediaStore, ObjectKey};
use futures_util::StreamExt;

fn endpoint() -> Option<String> {
    match std::env::var("FAIRLOOP_TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().trim_end_matches('/').to_string()),
        _ if std::env::var("FAIRLOOP_REQUIRE_S3").is_ok_and(|v| v == "1") => {
            panic!("FAIRLOOP_REQUIRE_S3=1 but FAIRLOOP_TEST_S3_ENDPOINT is not set")
        }
        _ => {
            eprintln!("FAIRLOOP_TEST_S3_ENDPOINT is not set: skipping the S3 test");
            None
        }
    }
}

#[tokio::test]
async fn an_s3_store_writes_reads_ranges_and_deletes() {
    let Some(endpoint) = endpoint() else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let bucket = format!("fairloop-test-{}-{nanos:x}", std::process::id());
    // moto creates a bucket on a plain PUT.
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 test server answers");
    assert!(
        created.status().is_success(),
        "creating the bucket: {}",
        created.status()
    );
    let store = MediaStore::s3(
        &format!("s3://{bucket}/media"),
        [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
            ("aws_region", "us-east-1"),
        ],
    )
    .expect("an S3 store");
    assert_eq!(store.describe(), format!("s3://{bucket}/media"));

    // 12 MB: over object_store's 10 MB buffer, so the upload goes in multipart.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data: Vec<u8> = (0..12_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    let key = ObjectKey::generate(42);
    store.put_file(&key, &src).await.expect("upload");
    store
        .put_bytes(&key.thumbnail(), b"thumb".to_vec())
        .await
        .expect("small upload");
    assert_eq!(store.size(&key).await.unwrap(), data.len() as u64);
    assert_eq!(store.get_bytes(&key).await.unwrap().as_ref(), &data[..]);
    assert_eq!(
        store.get_bytes(&key.thumbnail()).await.unwrap().as_ref(),
        b"thumb"
    );

    let read = store
        .get(&key, Some(ByteRange::Bounded(5_000_000, 5_000_100)))
        .await
        .expect("range read");
    assert_eq!(
        (read.total, read.range.clone()),
        (12_000_000, 5_000_000..5_000_100)
    );
    let got: Vec<u8> = read.stream.map(|c| c.unwrap().to_vec()).concat().await;
    assert_eq!(got, &data[5_000_000..5_000_100]);
    let tail = store.get(&key, Some(ByteRange::Suffix(10))).await.unwrap();
    let got: Vec<u8> = tail.stream.map(|c| c.unwrap().to_vec()).concat().await;
    assert_eq!(got, &data[data.len() - 10..]);

    store.delete(&key).await.expect("delete");
    store.delete(&key.thumbnail()).await.expect("delete");
    assert!(matches!(store.size(&key).await, Err(MediaError::NotFound)));
    assert!(matches!(
        store.get_bytes(&key).await,
        Err(MediaError::NotFound)
    ));
    // Deleting what is gone is not an error (the clean-up job may run twice).
    store.delete(&key).await.expect("a second delete");
}
