-- One database per service (each also keeps its dead letters, in a table its migrations
-- create). Run once by the postgres image on an empty data directory.
CREATE DATABASE htma;
CREATE DATABASE ingredient;
