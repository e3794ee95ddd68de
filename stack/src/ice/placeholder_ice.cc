// module ice
