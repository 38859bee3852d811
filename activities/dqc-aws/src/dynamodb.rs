//! The metadata store on DynamoDB: one table keyed `(pk, sk)` (both strings); an item's JSON
//! is kept whole in the attribute `doc`.

use aws_sdk_dynamodb::types::AttributeValue;
use dqc_activities::{Error, MetadataStore};
use serde_json::Value;

use crate::{sdk_error, Aws, Exec};

/// Items of one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoMetadata {
    exec: Exec,
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Items asked per `Query` page.
    pub page_size: i32,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

impl DynamoMetadata {
    pub fn new(aws: &Aws, table: &str) -> DynamoMetadata {
        DynamoMetadata {
            exec: aws.exec.clone(),
            client: aws_sdk_dynamodb::Client::new(&aws.config),
            table: table.to_owned(),
            page_size: 100,
        }
    }

    fn doc(&self, pk: &str, sk: &str, item: &Value) -> Result<AttributeValue, Error> {
        serde_json::to_string(item).map(AttributeValue::S).map_err(|e| Error::fatal(format!("item {pk}/{sk}: {e}")))
    }

    fn parse(&self, pk: &str, sk: &str, doc: Option<&AttributeValue>) -> Result<Value, Error> {
        let text = doc.and_then(|d| d.as_s().ok()).ok_or_else(|| {
            Error::fatal(format!("item {pk}/{sk} in DynamoDB table {} has no `doc` string attribute", self.table))
        })?;
        serde_json::from_str(text).map_err(|e| {
            Error::fatal(format!("item {pk}/{sk} in DynamoDB table {}: `doc` is not JSON: {e}", self.table))
        })
    }
}

impl MetadataStore for DynamoMetadata {
    fn put(&self, pk: &str, sk: &str, item: &Value) -> Result<(), Error> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("sk", s(sk))
            .item("doc", self.doc(pk, sk, item)?);
        self.exec
            .block_on(request.send())
            .map_err(|e| sdk_error(&format!("writing item {pk}/{sk} to {}", self.table), &e))?;
        Ok(())
    }

    fn get(&self, pk: &str, sk: &str) -> Result<Option<Value>, Error> {
        let request =
            self.client.get_item().table_name(&self.table).key("pk", s(pk)).key("sk", s(sk)).consistent_read(true);
        let out = self
            .exec
            .block_on(request.send())
            .map_err(|e| sdk_error(&format!("reading item {pk}/{sk} from {}", self.table), &e))?;
        out.item().map(|item| self.parse(pk, sk, item.get("doc"))).transpose()
    }

    fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let what = format!("querying {pk}/{sk_prefix}* in {}", self.table);
        self.exec.block_on(async {
            // DynamoDB refuses an empty key value: an empty prefix asks for the whole partition.
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .limit(self.page_size);
            request = if sk_prefix.is_empty() {
                request.key_condition_expression("pk = :pk")
            } else {
                request
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(sk_prefix))
            };
            let mut pages = request.into_paginator().send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error(&what, &e))?;
                for item in page.items() {
                    let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    let doc = self.parse(pk, &sk, item.get("doc"))?;
                    out.push((sk, doc));
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        })
    }

    /// A `PutItem` with `attribute_not_exists(pk)`: DynamoDB refuses it when the item exists.
    fn put_if_absent(&self, pk: &str, sk: &str, item: &Value) -> Result<bool, Error> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("sk", s(sk))
            .item("doc", self.doc(pk, sk, item)?)
            .condition_expression("attribute_not_exists(pk)");
        match self.exec.block_on(request.send()) {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error(&format!("writing item {pk}/{sk} once to {}", self.table), &e)),
        }
    }
}
