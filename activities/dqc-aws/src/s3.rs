//! The artifact store on S3: `s3://bucket/prefix`, keys below the prefix.

use aws_sdk_s3::primitives::ByteStream;
use dqc_activities::{ArtifactStore, Error};

use crate::{sdk_error, Aws, Exec};

/// Artifacts under `s3://bucket/prefix/`.
#[derive(Debug, Clone)]
pub struct S3Store {
    exec: Exec,
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    /// Keys asked per `ListObjectsV2` page (at most 1000).
    pub page_size: i32,
}

impl S3Store {
    /// The store at `s3://bucket/prefix` (the prefix may be empty).
    pub fn new(aws: &Aws, url: &str) -> Result<S3Store, Error> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| Error::fatal(format!("`{url}` is not an s3://bucket/prefix address")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::fatal(format!("`{url}` names no bucket")));
        }
        let prefix = prefix.trim_matches('/');
        let config = aws_sdk_s3::config::Builder::from(&aws.config).force_path_style(aws.path_style).build();
        Ok(S3Store {
            exec: aws.exec.clone(),
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.to_owned(),
            prefix: if prefix.is_empty() { String::new() } else { format!("{prefix}/") },
            page_size: 1000,
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(key))
    }
}

impl ArtifactStore for S3Store {
    /// One `PutObject`: S3 stores an object whole or not at all.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let request =
            self.client.put_object().bucket(&self.bucket).key(self.key(key)).body(ByteStream::from(bytes.to_vec()));
        self.exec.block_on(request.send()).map_err(|e| sdk_error(&format!("writing {}", self.url(key)), &e))?;
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let what = format!("reading {}", self.url(key));
        self.exec.block_on(async {
            let out = match self.client.get_object().bucket(&self.bucket).key(self.key(key)).send().await {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(sdk_error(&what, &e)),
            };
            let body =
                out.body.collect().await.map_err(|e| Error::retryable(format!("{what}: the body broke off: {e}")))?;
            Ok(Some(body.into_bytes().to_vec()))
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let what = format!("listing {}", self.url(prefix));
        self.exec.block_on(async {
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.key(prefix))
                .max_keys(self.page_size)
                .into_paginator()
                .send();
            let mut keys = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error(&what, &e))?;
                for object in page.contents() {
                    if let Some(k) = object.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                        keys.push(k.to_owned());
                    }
                }
            }
            keys.sort();
            Ok(keys)
        })
    }

    /// A conditional `PutObject` (`If-None-Match: *`): S3 refuses it with 412 when the key
    /// exists, so a published version is never overwritten, even by a racing writer.
    fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool, Error> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()));
        match self.exec.block_on(request.send()) {
            Ok(_) => Ok(true),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_owned();
                if status == Some(412) || code == "PreconditionFailed" {
                    Ok(false)
                } else if status == Some(409) || code == "ConditionalRequestConflict" {
                    Err(Error::retryable(format!("writing {} once: a concurrent write is in progress", self.url(key))))
                } else {
                    Err(sdk_error(&format!("writing {} once", self.url(key)), &e))
                }
            }
        }
    }
}
