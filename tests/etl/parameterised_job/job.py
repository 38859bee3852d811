import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_db", "source_table", "target_path", "run_date"])

glueContext = GlueContext(SparkContext.getOrCreate())

source = glueContext.create_dynamic_frame.from_catalog(
    database=args["source_db"],
    table_name=args["source_table"],
).toDF()

day = source.filter(F.col("event_date") == args["run_date"])
day = day.filter(f"ingest_date <= '{args['run_date']}'")

output_path = f"{args['target_path']}/dt={args['run_date']}/"
day.select("event_id", "event_date", "payload").write.mode("overwrite").json(output_path)
