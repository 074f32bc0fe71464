/* vma_xcheck.c - vma.c against an archive Proxmox wrote: LABVIRT_VMA_SAMPLE
 * names one (compressed or not; skipped when unset). The reader reads it; the
 * writer, given the same uuid, ctime, config and clusters in the same order,
 * must write the same bytes, compared as they come. A fragment (the first
 * megabytes of an archive, as test suites keep) ends in missing clusters: then
 * one more cluster makes the writer flush its last full extent, and only the
 * fragment's bytes are compared. Memory: a cluster and an extent. */
#include <string.h>

#include "lv.h"
#include "tap.h"
#include "vma.h"
#include "zstream.h"

struct xcheck {
	struct vma_writer *w;
	struct zs_in *again; /* the archive once more, to compare with */
	uint64_t compared;
	bool differ, ended;
	unsigned dev_id; /* the cluster being gathered, 0: none */
	uint64_t cluster;
	unsigned char buf[VMA_CLUSTER_SIZE];
	size_t len;
};

static ssize_t zs_read(void *opaque, void *buf, size_t len, struct lv_error *err)
{
	return zs_in_read(opaque, buf, len, err);
}

/* The writer's bytes against the archive's. */
static int compare(void *opaque, const void *buf, size_t len, struct lv_error *err)
{
	struct xcheck *x = opaque;
	unsigned char theirs[65536];
	for (const unsigned char *p = buf; len > 0 && !x->differ && !x->ended;) {
		size_t n = len < sizeof(theirs) ? len : sizeof(theirs);
		ssize_t got = zs_in_read(x->again, theirs, n, err);
		if (got < 0)
			return -1;
		if (got == 0)
			x->ended = true;
		else if (memcmp(p, theirs, (size_t)got) != 0)
			x->differ = true;
		else
			x->compared += (uint64_t)got;
		p += got, len -= (size_t)got;
	}
	return 0;
}

static int flush_cluster(struct xcheck *x, struct lv_error *err)
{
	if (!x->dev_id)
		return 0;
	int rc = vma_writer_cluster(x->w, x->dev_id, x->cluster, x->buf, x->len, err);
	x->dev_id = 0;
	return rc;
}

/* Gathers a cluster's runs, and hands the cluster on when the next begins. */
static int gather(void *opaque, const struct vma_device *dev, uint64_t offset, const void *buf,
		  size_t len, struct lv_error *err)
{
	struct xcheck *x = opaque;
	uint64_t cluster = offset / VMA_CLUSTER_SIZE;
	if ((x->dev_id != dev->id || x->cluster != cluster) && flush_cluster(x, err) < 0)
		return -1;
	if (!x->dev_id) {
		x->dev_id = dev->id, x->cluster = cluster;
		memset(x->buf, 0, sizeof(x->buf));
	}
	size_t at = offset % VMA_CLUSTER_SIZE;
	if (buf)
		memcpy(x->buf + at, buf, len);
	x->len = at + len;
	return 0;
}

static int start_writer(struct xcheck *x, const struct vma_header *h, struct lv_error *err)
{
	x->w = vma_writer_new(h->uuid, h->ctime);
	for (size_t i = 0; i < h->n_configs; i++)
		if (vma_writer_add_config(x->w, h->configs[i].name, h->configs[i].data,
					  h->configs[i].len, err) < 0)
			return -1;
	for (size_t i = 0; i < h->n_devices; i++) {
		unsigned id;
		if (vma_writer_add_device(x->w, h->devices[i].name, h->devices[i].size, &id, err) <
		    0)
			return -1;
		if (id != h->devices[i].id)
			return lv_fail(err, LV_EXIT_FAIL, "device ids with gaps: not this check's");
	}
	return vma_writer_begin(x->w, compare, x, err);
}

/* One cluster not yet written, to push out the last full extent of a fragment. */
static int flush_fragment(struct xcheck *x, const struct vma_header *h, struct lv_error *err)
{
	for (uint64_t c = 0; c < (h->devices[0].size + VMA_CLUSTER_SIZE - 1) / VMA_CLUSTER_SIZE;
	     c++)
		if (vma_writer_cluster(x->w, h->devices[0].id, c, NULL, 0, err) == 0)
			return 0;
	return -1;
}

int main(void)
{
	const char *path = getenv("LABVIRT_VMA_SAMPLE");
	if (!path || !*path) {
		printf("# skip: LABVIRT_VMA_SAMPLE names no archive Proxmox wrote\n");
		return 77;
	}
	static struct xcheck x;
	struct zs_in *in = NULL;
	struct vma_reader *r = NULL;
	struct lv_error err = {0};
	bool ok = zs_in_open(path, &in, &err) == 0 && zs_in_open(path, &x.again, &err) == 0 &&
		  vma_reader_open(zs_read, in, path, &r, &err) == 0;
	check(ok, "%s: header read (%s)", path, ok ? zs_name(zs_in_type(in)) : err.msg);
	if (!ok)
		return tap_summary();
	const struct vma_header *h = vma_reader_header(r);
	check(start_writer(&x, h, &err) == 0, "writer: the same %zu configs and %zu devices (%s)",
	      h->n_configs, h->n_devices, err.msg);
	int rc = vma_reader_extract(r, gather, &x, &err);
	bool fragment = rc < 0 && strstr(err.msg, "clusters of") && strstr(err.msg, "missing");
	check(rc == 0 || fragment, "reader: %s", rc == 0 ? "every cluster read" : err.msg);
	struct lv_error werr = {0};
	rc = flush_cluster(&x, &werr);
	if (rc == 0)
		rc = fragment ? flush_fragment(&x, h, &werr) : vma_writer_finish(x.w, &werr);
	uint64_t total = vma_reader_offset(r);
	check(rc == 0 && !x.differ && x.compared == total,
	      "writer: the archive's %llu bytes again, byte for byte (%llu compared%s%s)",
	      (unsigned long long)total, (unsigned long long)x.compared,
	      x.differ ? ", then a difference" : "", rc ? werr.msg : "");
	vma_writer_free(x.w);
	vma_reader_free(r);
	zs_in_close(in);
	zs_in_close(x.again);
	return tap_summary();
}
