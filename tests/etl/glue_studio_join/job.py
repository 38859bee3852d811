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

# Script generated for node Shipments
Shipments_node1 = glueContext.create_dynamic_frame.from_catalog(database="logistics_raw", table_name="shipments", transformation_ctx="Shipments_node1")

# Script generated for node Carriers
Carriers_node2 = glueContext.create_dynamic_frame.from_catalog(database="logistics_ref", table_name="carriers", transformation_ctx="Carriers_node2")

# Script generated for node Renamed keys for Join
RenamedkeysforJoin_node3 = ApplyMapping.apply(frame=Carriers_node2, mappings=[("carrier_id", "string", "right_carrier_id", "string"), ("carrier_name", "string", "carrier_name", "string"), ("country", "string", "carrier_country", "string")], transformation_ctx="RenamedkeysforJoin_node3")

# Script generated for node Join
Join_node4 = Join.apply(frame1=Shipments_node1, frame2=RenamedkeysforJoin_node3, keys1=["carrier_id"], keys2=["right_carrier_id"], transformation_ctx="Join_node4")

# Script generated for node Drop Fields
DropFields_node5 = DropFields.apply(frame=Join_node4, paths=["right_carrier_id"], transformation_ctx="DropFields_node5")

# Script generated for node Amazon S3
AmazonS3_node6 = glueContext.write_dynamic_frame.from_catalog(frame=DropFields_node5, database="logistics_curated", table_name="shipments_enriched", transformation_ctx="AmazonS3_node6")

job.commit()
