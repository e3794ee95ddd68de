// module api
