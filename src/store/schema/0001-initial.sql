-- placeholder
CREATE TABLE t (x INTEGER);
