/* cidrive_iso.c - writes the cloud-init drive of a golden case
 * (tests/cloudinit_cases.c) as an ISO image with isofs.c, for tests/cidrive.sh.
 *
 *   cidrive_iso CASE OUT.iso
 *   cidrive_iso -j THREADS CASE OUT.iso
 *
 * With -j, THREADS threads also make the same image 20 times each, all at once
 * (up's workers make drives in parallel, and libisofs keeps process-wide
 * state), and every image must be byte for byte the one written. */
#include <pthread.h>
#include <string.h>

#include "cloudinit_cases.h"
#include "isofs.h"

#define ROUNDS 20

struct worker {
	pthread_t thread;
	const struct ci_drive *drive;
	const char *want;
	size_t want_len;
	int differed, failed;
	char msg[1024];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct lv_error err = {0};
		char *buf = NULL;
		size_t len = 0;
		if (isofs_make(w->drive->volume_id, w->drive->files, w->drive->n_files, &buf, &len,
			       &err) < 0) {
			w->failed++;
			snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
			continue;
		}
		w->differed += len != w->want_len || memcmp(buf, w->want, len) != 0;
		free(buf);
	}
	return NULL;
}

/* The image made by nthreads threads at once, against the file written. */
static int check_threads(const struct ci_drive *d, const char *path, int nthreads)
{
	size_t len;
	_cleanup_free_ char *want = lv_read_file(path, &len);
	if (!want) {
		perror(path);
		return 1;
	}
	struct worker *w = xcalloc((size_t)nthreads, sizeof(*w));
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){.drive = d, .want = want, .want_len = len};
		pthread_create(&w[i].thread, NULL, work, &w[i]);
	}
	int bad = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].failed || w[i].differed)
			fprintf(stderr, "cidrive_iso: thread %d: %d failed (%s), %d differed\n", i,
				w[i].failed, w[i].msg, w[i].differed);
		bad |= w[i].failed || w[i].differed;
	}
	free(w);
	return bad;
}

int main(int argc, char **argv)
{
	int nthreads = 0, opt;
	while ((opt = getopt(argc, argv, "j:")) != -1)
		nthreads = opt == 'j' ? atoi(optarg) : -1;
	if (nthreads < 0 || optind + 2 != argc) {
		fprintf(stderr, "usage: cidrive_iso [-j THREADS] CASE OUT.iso\n");
		return 2;
	}
	const struct ci_case *c = ci_case_find(argv[optind]);
	if (!c) {
		fprintf(stderr, "cidrive_iso: no case '%s'\n", argv[optind]);
		return 2;
	}
	const char *out = argv[optind + 1];
	struct lv_error err = {0};
	struct ci_drive d = {0};
	int rc = cloudinit_make(&c->in, &d, &err) < 0 || isofs_write_drive(&d, out, &err) < 0;
	if (rc)
		fprintf(stderr, "cidrive_iso: %s\n", err.msg);
	else if (nthreads > 0)
		rc = check_threads(&d, out, nthreads);
	cloudinit_drive_free(&d);
	return rc;
}
