import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Amazon S3
AmazonS3_node1699999999001 = glueContext.create_dynamic_frame.from_options(format_options={"quoteChar": "\"", "withHeader": True, "separator": ","}, connection_type="s3", format="csv", connection_options={"paths": ["s3://acme-landing/crm/accounts/"], "recurse": True}, transformation_ctx="AmazonS3_node1699999999001")

# Script generated for node Change Schema
ChangeSchema_node1699999999002 = ApplyMapping.apply(frame=AmazonS3_node1699999999001, mappings=[("account_id", "string", "account_id", "string"), ("account_name", "string", "account_name", "string"), ("created", "string", "created_at", "timestamp"), ("annual_revenue", "string", "annual_revenue", "decimal(18,2)"), ("region", "string", "region", "string")], transformation_ctx="ChangeSchema_node1699999999002")

# Script generated for node Amazon S3
AmazonS3_node1699999999003 = glueContext.getSink(path="s3://acme-curated/crm/accounts/", connection_type="s3", updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["region"], enableUpdateCatalog=True, transformation_ctx="AmazonS3_node1699999999003")
AmazonS3_node1699999999003.setCatalogInfo(catalogDatabase="crm_curated", catalogTableName="accounts")
AmazonS3_node1699999999003.setFormat("glueparquet", compression="snappy")
AmazonS3_node1699999999003.writeFrame(ChangeSchema_node1699999999002)
job.commit()
