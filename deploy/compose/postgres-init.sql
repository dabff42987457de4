-- One database per service, plus the htma worker's dead-letter store (its table is
-- created on first use). Run once by the postgres image on an empty data directory.
CREATE DATABASE htma;
CREATE DATABASE htma_jobs;
CREATE DATABASE ingredient;
