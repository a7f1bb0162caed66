"""The event log: the SQL, in-memory and Redis Streams stores, their wire format, the feed,
retention and the Redis client they share."""
