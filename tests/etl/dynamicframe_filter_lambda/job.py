from awsglue.context import GlueContext
from awsglue.transforms import DropNullFields, Filter, ResolveChoice
from pyspark.context import SparkContext

glue_context = GlueContext(SparkContext.getOrCreate())

txns = glue_context.create_dynamic_frame.from_catalog(database="cards_raw", table_name="card_transactions")

valid = Filter.apply(
    frame=txns,
    f=lambda row: row["txn_status"] in ["APPROVED", "SETTLED"] and row["amount"] > 0 and row["card_id"] is not None,
)

typed = ResolveChoice.apply(frame=valid, specs=[("amount", "cast:double"), ("merchant_id", "cast:long")])
compact = DropNullFields.apply(frame=typed)

glue_context.write_dynamic_frame.from_jdbc_conf(
    frame=compact,
    catalog_connection="warehouse-redshift",
    connection_options={"dbtable": "card_transactions_valid", "database": "finance"},
    redshift_tmp_dir="s3://acme-tmp/redshift/",
)
