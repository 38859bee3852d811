import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue import DynamicFrame

def sparkSqlQuery(glueContext, query, mapping, transformation_ctx) -> DynamicFrame:
    for alias, frame in mapping.items():
        frame.toDF().createOrReplaceTempView(alias)
    result = spark.sql(query)
    return DynamicFrame.fromDF(result, glueContext, transformation_ctx)
args = getResolvedOptions(sys.argv, ['JOB_NAME'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Script generated for node Orders
Orders_node1 = glueContext.create_dynamic_frame.from_catalog(database="sales_raw", table_name="orders", transformation_ctx="Orders_node1")

# Script generated for node Order lines
OrderLines_node2 = glueContext.create_dynamic_frame.from_catalog(database="sales_raw", table_name="order_lines", transformation_ctx="OrderLines_node2")

# Script generated for node SQL Query
SqlQuery0 = '''
select o.order_id,
       o.customer_id,
       o.order_date,
       sum(l.quantity * l.unit_price) as order_total,
       count(*) as line_count
from orders o
join lines l on o.order_id = l.order_id
where o.status <> 'CANCELLED'
group by o.order_id, o.customer_id, o.order_date
'''
SQLQuery_node3 = sparkSqlQuery(glueContext, query = SqlQuery0, mapping = {"orders":Orders_node1, "lines":OrderLines_node2}, transformation_ctx = "SQLQuery_node3")

# Script generated for node Amazon S3
AmazonS3_node4 = glueContext.write_dynamic_frame.from_options(frame=SQLQuery_node3, connection_type="s3", format="glueparquet", connection_options={"path": "s3://acme-curated/sales/order_totals/", "partitionKeys": ["order_date"]}, format_options={"compression": "snappy"}, transformation_ctx="AmazonS3_node4")

job.commit()
