/* journal.h - the intent record of `up`: before each side-effecting step,
 * what it is about to make and what identifies it; after the step, that it is
 * done. A run killed in the middle leaves the record behind, and the next `up`
 * or `destroy` (under the lab's lock) removes what was left half-made. Pure:
 * text in, text out; the state directory's file is the adapters' business. */
#ifndef JOURNAL_H
#define JOURNAL_H

#include "lv.h"

enum journal_kind {
	JOURNAL_NETWORK, /* name: the libvirt network */
	JOURNAL_BRIDGE,  /* name: the Linux bridge labvirt makes itself */
	JOURNAL_VOLUME,  /* name: the volume's path; owner, storage, temp */
	JOURNAL_DOMAIN,  /* name: the domain (defined); uuid when the layout sets one */
	JOURNAL_START,   /* name: the domain (started) */
	JOURNAL_DIR,     /* name: a storage directory the run makes (absolute path) */
	/* name: a guest's config file that `restore` writes as temp and renames last: once
	 * it has its name the run is complete, whatever else its journal says */
	JOURNAL_FILE,
};

struct journal_entry {
	enum journal_kind kind;
	bool done;
	bool prepare; /* a volume that is complete only once prepared for first boot */
	char *step;   /* "create volume flt-a/virtio0": for messages */
	char *name;
	char *owner;   /* volume: "LAB/GUEST/DISK", its tag */
	char *storage; /* volume: the storage's id */
	char *temp;    /* volume: the temporary file it is made under, or NULL */
	char *uuid;    /* domain: or NULL */
};

struct journal {
	char *lab;
	int pid; /* the run that wrote it */
	struct journal_entry *entries;
	size_t n, cap;
};

/* Appends a copy of e (strings duplicated); returns its index. */
size_t journal_add(struct journal *j, const struct journal_entry *e);
/* Removes entry i, keeping the order of the others. */
void journal_drop(struct journal *j, size_t i);
void journal_clear(struct journal *j);
static inline void journal_clearp(struct journal *j)
{
	journal_clear(j);
}

const char *journal_kind_name(enum journal_kind k);
/* One line per entry, tab-separated, tabs, newlines and backslashes escaped. */
char *journal_format(const struct journal *j);
/* Reads journal_format's text; where names the file in the error. */
int journal_parse(const char *text, const char *where, struct journal *ret, struct lv_error *err);

/* The temporary name the dir backend makes a volume under (storage_dir.c):
 * ".NAME.part-PID" beside it. */
char *journal_dir_temp(const char *path, int pid);

#endif
