/* intent.h - the intent journal of a run of `up` (include/journal.h), kept in
 * the state directory as LAB.journal, and what the next run does with one an
 * interrupted run left behind. */
#ifndef INTENT_H
#define INTENT_H

#include <pthread.h>

#include "engine.h"
#include "journal.h"

/* The journal of this run. Entries are never renumbered: undone ones are
 * only marked and left out of the file. */
struct intent {
	struct engine *c;
	struct journal j;
	bool *undone;         /* [j.cap] */
	pthread_mutex_t lock; /* the workers of apply.c record side by side */
};

void intent_init(struct intent *in, struct engine *c);
void intent_clear(struct intent *in);
/* Records, durably, that e is about to be made; *ret_id names it after. */
int intent_begin(struct intent *in, const struct journal_entry *e, size_t *ret_id,
		 struct lv_error *err);
/* Records that entry id is complete. */
int intent_done(struct intent *in, size_t id, struct lv_error *err);
/* Entry id was taken back (undone, or its step failed cleanly). */
void intent_undone(struct intent *in, size_t id);
/* The run is over. The file goes when every entry is done (the run
 * succeeded) or taken back (it failed and undid all); otherwise it stays for
 * the next run. */
int intent_finish(struct intent *in, bool failed, struct lv_error *err);

/* Under the lab's lock, before `up` plans or `destroy` removes: reads what an
 * interrupted run left (if anything) and removes what it left half-made (a
 * temporary volume file, a volume not complete or not prepared, a bridge
 * without its owner alias). With everything (`destroy` of the whole lab),
 * also removes the domains and volumes the journal names that the layout no
 * longer has, if they are this lab's. Last, it removes the storage
 * directories the interrupted run made if they are empty, and the journal.
 * With ret_left (`destroy`), those last two are left to
 * intent_recover_dirs(ret_left), once the caller has removed the volumes in
 * them. Prints each removal on c->out. */
int intent_recover(struct engine *c, bool everything, struct journal *ret_left,
		   struct lv_error *err);
/* After intent_recover(..., left, ...): removes the storage directories the
 * journal in left names that are empty (rmdir: never a non-empty one), then
 * the journal. Nothing when there was no journal. */
int intent_recover_dirs(struct engine *c, const struct journal *left, struct lv_error *err);

/* For `plan`: whether an interrupted run left a journal (1) or not (0), with
 * its pid and how many of its steps did not finish. */
int intent_pending(struct engine *c, int *ret_pid, size_t *ret_open, struct lv_error *err);

#endif
