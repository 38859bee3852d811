//! The catalog on the Glue Data Catalog: `GetDatabases`, `GetTables`, `GetTable` and
//! `GetPartitions`, every listing paginated; Glue type strings are read by the checker's parser.

use dqc_activities::profile::SchemaColumn;
use dqc_activities::{Catalog, CatalogTable, Error};

use crate::{sdk_error, Aws, Exec};

/// The Glue Data Catalog of the account (or of `catalog_id`).
#[derive(Debug, Clone)]
pub struct GlueCatalog {
    exec: Exec,
    client: aws_sdk_glue::Client,
    /// Another account's catalog.
    pub catalog_id: Option<String>,
    /// Only these databases are listed [default: every database].
    pub databases: Option<Vec<String>>,
}

/// A Glue column as a schema column: its type in contract spelling when the checker reads it.
fn column(name: &str, glue_type: &str) -> SchemaColumn {
    let ty = dqc_semantics::types::parse_glue_type(glue_type)
        .map_or_else(|| dqc_activities::profile::contract_type(glue_type), |t| t.to_string());
    SchemaColumn { name: name.to_owned(), ty, nullable: true, engine_type: glue_type.to_owned() }
}

impl GlueCatalog {
    pub fn new(aws: &Aws) -> GlueCatalog {
        GlueCatalog {
            exec: aws.exec.clone(),
            client: aws_sdk_glue::Client::new(&aws.config),
            catalog_id: None,
            databases: None,
        }
    }

    fn database_names(&self) -> Result<Vec<String>, Error> {
        if let Some(d) = &self.databases {
            return Ok(d.clone());
        }
        self.exec.block_on(async {
            let mut pages = self.client.get_databases().set_catalog_id(self.catalog_id.clone()).into_paginator().send();
            let mut names = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error("listing the Glue databases", &e))?;
                names.extend(page.database_list().iter().map(|d| d.name().to_owned()));
            }
            Ok(names)
        })
    }

    /// The partitions of a table: each one's values, in partition-key order, sorted.
    pub fn partitions(&self, database: &str, table: &str) -> Result<Vec<Vec<String>>, Error> {
        let what = format!("listing the partitions of {database}.{table} in Glue");
        self.exec.block_on(async {
            let mut pages = self
                .client
                .get_partitions()
                .set_catalog_id(self.catalog_id.clone())
                .database_name(database)
                .table_name(table)
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error(&what, &e))?;
                out.extend(page.partitions().iter().map(|p| p.values().to_vec()));
            }
            out.sort();
            Ok(out)
        })
    }
}

impl Catalog for GlueCatalog {
    fn tables(&self) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        for db in self.database_names()? {
            let what = format!("listing the tables of Glue database {db}");
            self.exec.block_on(async {
                let mut pages = self
                    .client
                    .get_tables()
                    .set_catalog_id(self.catalog_id.clone())
                    .database_name(&db)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| sdk_error(&what, &e))?;
                    names.extend(page.table_list().iter().map(|t| format!("{db}.{}", t.name())));
                }
                Ok::<(), Error>(())
            })?;
        }
        names.sort();
        Ok(names)
    }

    fn table(&self, database: &str, table: &str) -> Result<Option<CatalogTable>, Error> {
        let request =
            self.client.get_table().set_catalog_id(self.catalog_id.clone()).database_name(database).name(table);
        let out = match self.exec.block_on(request.send()) {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_glue::operation::get_table::GetTableError::is_entity_not_found_exception) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(sdk_error(&format!("reading table {database}.{table} from Glue"), &e)),
        };
        let Some(t) = out.table() else { return Ok(None) };
        let sd = t.storage_descriptor();
        let data = sd.map(|sd| sd.columns()).unwrap_or_default();
        let mut columns: Vec<SchemaColumn> =
            data.iter().map(|c| column(c.name(), c.r#type().unwrap_or("string"))).collect();
        columns.extend(t.partition_keys().iter().map(|c| column(c.name(), c.r#type().unwrap_or("string"))));
        Ok(Some(CatalogTable {
            database: database.to_owned(),
            table: table.to_owned(),
            columns,
            partition_keys: t.partition_keys().iter().map(|c| c.name().to_owned()).collect(),
            location: sd.and_then(|sd| sd.location()).map(str::to_owned),
        }))
    }
}
