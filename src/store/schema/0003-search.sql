-- Indexes for runs/search (store_sqlite_search.c): a filter or an order on a metric, param or
-- tag can start from the rows of that key instead of probing every run. latest_metrics' is_nan
-- comes before value because filters compare numbers only (is_nan = 0).
CREATE INDEX latest_metrics_key_value ON latest_metrics (key, is_nan, value);
CREATE INDEX params_key_value ON params (key, value);
CREATE INDEX run_tags_key_value ON run_tags (key, value);
