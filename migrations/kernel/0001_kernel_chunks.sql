CREATE TABLE `kernel_chunks` (
	`sha256` text PRIMARY KEY NOT NULL,
	`bytes` blob NOT NULL,
	`published` integer DEFAULT 0 NOT NULL
);
