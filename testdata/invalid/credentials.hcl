# A credentials block reads exactly one store; the postgres store's DSN is
# checked for its form (never the network) and its query binds $1 and $2.
credentials "both" {
  file = "subscribers.csv"
  postgres { # ERROR 3: Two Credential Stores
    dsn   = "postgres://sipfront@db.example.com/users"
    query = "SELECT ha1 FROM subscriber WHERE username = $1 AND domain = $2"
  }
}

credentials "none" { # ERROR 13: No Credential Store
  cache_ttl = "1h"
}

credentials "bad-dsn" {
  postgres {
    dsn       = "mysql://db.example.com/users" # ERROR 17: Invalid DSN
    query     = "SELECT ha1 FROM subscriber WHERE username = $1" # ERROR 17: Invalid Credentials Query
    pool_size = 0 # ERROR 17: Invalid Pool Size
  }
}

credentials "bad-kv" {
  negative_ttl = "2h" # WARNING 18: Negative Cache Outlives Positive Cache
  postgres {
    dsn   = "host=db.example.com password='unterminated" # ERROR 13: Invalid DSN
    query = "SELECT ha1 FROM subscriber WHERE username = $1 AND domain = $3" # ERROR 13: Invalid Credentials Query
  }
}

credentials "fine" {
  cache_ttl    = "10m"
  negative_ttl = "30s"
  postgres {
    dsn       = "host=db.example.com dbname=users user=sipfront password='two words' sslmode=verify-full"
    query     = "SELECT ha1, ha1_sha256 FROM subscriber WHERE username = $1 AND domain = $2"
    pool_size = 8
  }
}
