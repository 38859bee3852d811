from awsglue.context import GlueContext
from awsglue.transforms import ApplyMapping, Filter
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())

loans = glueContext.create_dynamic_frame.from_options(
    connection_type="postgresql",
    connection_options={"connectionName": "core-banking", "dbtable": "lending.loans"},
)
mapped = ApplyMapping.apply(
    frame=loans,
    mappings=[
        ("id", "long", "loan_id", "string"),
        ("borrower_id", "long", "customer_id", "string"),
        ("product", "string", "product_code", "string"),
        ("status", "string", "loan_status", "string"),
        ("principal", "decimal", "principal_amount", "decimal(14,2)"),
    ],
)
open_loans = Filter.apply(frame=mapped, f=lambda r: r["loan_status"] != "WRITTEN_OFF")

glueContext.write_dynamic_frame.from_catalog(frame=open_loans, database="ref_db", table_name="dim_loan")
