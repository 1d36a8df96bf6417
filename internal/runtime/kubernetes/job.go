package kubernetes

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/bascule/bascule/internal/runtime"
)

// LabelJob is on the Jobs the driver runs (and their pods): what they are
// for, such as "migrate".
const LabelJob = "bascule.dev/job"

// How much of a Job's log goes where: its first lines into the progress
// of the deployment's step, its last lines into the error of a failure.
const (
	jobProgressLines = 40
	jobErrorLines    = 20
	jobLogBytes      = 1 << 20
	jobContainer     = "job"
)

// ErrJobFailed is wrapped by RunJob's error when the Job failed.
var ErrJobFailed = errors.New("job failed")

// Job is a run to completion of a release's image, such as a migration
// command.
type Job struct {
	// Purpose names the Job ("<app>-<purpose>-<random>") and labels it;
	// a DNS label such as "migrate".
	Purpose string
	// Release is the version whose Image runs; Image is by digest.
	Release, Image string
	// Command replaces the image's entrypoint.
	Command []string
	// SecretEnv is the environment that must stay secret (DATABASE_URL
	// carries a password): it goes into a Secret owned by the Job and
	// deleted once the Job is finished, never into the Job's spec.
	SecretEnv map[string]string
	// Label prefixes the Job's output lines in progress.
	Label string
}

// RunJob runs j as a Kubernetes Job (one pod, never restarted: a
// migration is not retried behind the operator's back) and waits, on a
// watch, for it to complete or fail. The pod's output lines go to
// progress, prefixed with j.Label. It returns a note for the deployment
// record on success, after deleting the Job (its pod and Secret go with
// it). A failed Job's error wraps ErrJobFailed and carries the Job's
// verdict, the pod's exit code and its last log lines; the Job and its
// pod are kept for diagnosis (its Secret is deleted), until the next
// RunJob of the same purpose removes them. If ctx ends first, the Job is
// deleted, which stops its pod.
func (d *Driver) RunJob(ctx context.Context, j Job, progress func(string)) (string, error) {
	if err := checkImage(runtime.Spec{Version: j.Release, Image: j.Image}); err != nil {
		return "", fmt.Errorf("job %s of %s: %w", j.Purpose, j.Release, err)
	}
	if len(j.Command) == 0 {
		return "", fmt.Errorf("job %s of %s: no command", j.Purpose, j.Release)
	}
	if progress == nil {
		progress = func(string) {}
	}
	if err := d.sweepJobs(ctx, j.Purpose, progress); err != nil {
		return "", err
	}
	start := time.Now()
	job, err := d.createJob(ctx, j)
	if err != nil {
		return "", err
	}
	progress(fmt.Sprintf("%s: Kubernetes Job %s of %s started", j.Label, job.Name, j.Image))
	done, err := d.waitJob(ctx, job)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err != nil {
		if derr := d.deleteJob(cctx, job.Name); derr != nil {
			err = fmt.Errorf("%w (and left behind: %v)", err, derr)
		}
		return "", fmt.Errorf("job %s: %w", job.Name, err)
	}
	lines, pod := d.jobOutput(cctx, job.Name)
	forward(lines, j.Label, progress)
	if failed := jobFailed(done); failed != "" {
		left := d.keepFailed(cctx, job.Name)
		return "", fmt.Errorf("%s %q %w: Kubernetes Job %s: %s%s\n%s\n%s", j.Label, strings.Join(j.Command, " "), ErrJobFailed,
			job.Name, failed, pod, strings.Join(lines[max(0, len(lines)-jobErrorLines):], "\n"), left)
	}
	note := fmt.Sprintf("as Kubernetes Job %s, complete in %s", job.Name, time.Since(start).Round(time.Second))
	if err := d.deleteJob(cctx, job.Name); err != nil {
		note += fmt.Sprintf(" (not deleted: %v)", err)
	}
	return note, nil
}

// createJob creates the Job suspended, then its Secret owned by it (so the
// garbage collector removes the Secret with the Job whatever happens to
// bascule), then lets it run.
func (d *Driver) createJob(ctx context.Context, j Job) (*batchv1.Job, error) {
	jobs := d.client.BatchV1().Jobs(d.opts.Namespace)
	job, err := jobs.Create(ctx, d.jobFor(j), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create job %s: %w", j.Purpose, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name, Labels: job.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID}}},
		Type:       corev1.SecretTypeOpaque,
		StringData: j.SecretEnv,
	}
	if _, err := d.client.CoreV1().Secrets(d.opts.Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return nil, errors.Join(fmt.Errorf("create secret of job %s: %w", job.Name, err), d.deleteJob(ctx, job.Name))
	}
	job, err = jobs.Patch(ctx, job.Name, types.MergePatchType, []byte(`{"spec":{"suspend":false}}`), metav1.PatchOptions{})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start job %s: %w", secret.Name, err), d.deleteJob(ctx, secret.Name))
	}
	return job, nil
}

// jobFor is the Job running j: one pod of the release's image with j's
// command, never restarted, its secret environment from its Secret.
func (d *Driver) jobFor(j Job) *batchv1.Job {
	lbl := map[string]string{LabelApp: d.opts.App, LabelManagedBy: managedBy, LabelJob: j.Purpose, LabelRelease: releaseLabel(j.Release)}
	name := jobName(d.opts.App, j.Purpose)
	env := []corev1.EnvVar{{Name: "BASCULE_RELEASE", Value: j.Release}}
	for _, k := range slices.Sorted(maps.Keys(j.SecretEnv)) {
		// The Secret has the Job's name.
		env = append(env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: k}}})
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.opts.Namespace, Labels: lbl,
			Annotations: map[string]string{AnnotationRelease: j.Release}},
		Spec: batchv1.JobSpec{
			Suspend:      new(true),
			BackoffLimit: new(int32(0)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl, Annotations: map[string]string{AnnotationRelease: j.Release}},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyNever,
					TerminationGracePeriodSeconds: new(int64(seconds(d.opts.StopTimeout))),
					Containers: []corev1.Container{{Name: jobContainer, Image: j.Image, Command: j.Command, Env: env,
						Resources: d.resources}},
				},
			},
		},
	}
}

// jobName is "<app>-<purpose>-<5 random characters>", cut to the 63
// characters of a label value (the Job controller labels its pods with
// it).
func jobName(app, purpose string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789" // no vowels: no words
	b := make([]byte, 5)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	prefix := app + "-" + purpose
	prefix = strings.TrimRight(prefix[:min(len(prefix), 63-6)], "-.")
	return prefix + "-" + string(b)
}

// waitJob watches the Job until it is finished and returns it.
func (d *Driver) waitJob(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error) {
	jobs := d.client.BatchV1().Jobs(d.opts.Namespace)
	sel := fields.OneTermEqualSelector("metadata.name", job.Name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (k8sruntime.Object, error) {
			o.FieldSelector = sel
			return jobs.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return jobs.Watch(ctx, o)
		},
	}
	ev, err := watchtools.UntilWithSync(ctx, lw, &batchv1.Job{}, nil, func(ev watch.Event) (bool, error) {
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("deleted by someone else before it finished")
		}
		j, ok := ev.Object.(*batchv1.Job)
		return ok && finished(j), nil
	})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // UntilWithSync says "timed out" even when cancelled
	}
	if err != nil {
		return nil, err
	}
	return ev.Object.(*batchv1.Job), nil
}

// finished reports whether the Job controller judged the Job.
func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// jobFailed is the Job controller's word for a failed Job, "" for one
// that completed.
func jobFailed(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	return ""
}

// jobOutput returns the log lines of the Job's pod and, for an error, its
// state (", pod NAME: Failed, job terminated: Error (exit 3)").
func (d *Driver) jobOutput(ctx context.Context, name string) (lines []string, state string) {
	sel := labels.Set{batchv1.JobNameLabel: name}.String()
	list, err := d.client.CoreV1().Pods(d.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return []string{fmt.Sprintf("(cannot list the job's pods: %v)", err)}, ""
	}
	if len(list.Items) == 0 {
		return nil, "; it ran no pod"
	}
	p := list.Items[len(list.Items)-1]
	state = "; pod " + podState(&p)
	raw, err := d.client.CoreV1().Pods(d.opts.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: jobContainer,
		LimitBytes: new(int64(jobLogBytes))}).DoRaw(ctx)
	if err != nil {
		return []string{fmt.Sprintf("(log unavailable: %s)", firstLine(err.Error()))}, state
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), jobLogBytes)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, state
}

// forward sends the first lines to progress, as a command run here does.
func forward(lines []string, label string, progress func(string)) {
	for i, l := range lines {
		if i == jobProgressLines {
			progress(fmt.Sprintf("%s: … %d more lines", label, len(lines)-jobProgressLines))
			return
		}
		progress(label + ": " + l)
	}
}

// keepFailed deletes the failed Job's Secret (the credential has no use
// any more) and says what is kept for diagnosis.
func (d *Driver) keepFailed(ctx context.Context, name string) string {
	err := d.client.CoreV1().Secrets(d.opts.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	msg := fmt.Sprintf("kept for diagnosis: Job %s and its pod (kubectl -n %s logs job/%s); the next run removes them", name, d.opts.Namespace, name)
	if err != nil && !apierrors.IsNotFound(err) {
		msg += fmt.Sprintf("; its Secret %s could not be deleted: %v", name, err)
	}
	return msg
}

// deleteJob deletes the Job; the garbage collector removes its pod and
// Secret.
func (d *Driver) deleteJob(ctx context.Context, name string) error {
	bg := metav1.DeletePropagationBackground
	err := d.client.BatchV1().Jobs(d.opts.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete job %s: %w", name, err)
	}
	return nil
}

// sweepJobs deletes the Jobs of purpose that earlier runs left: failed
// ones kept for diagnosis, or one a stopped bascule could not delete.
func (d *Driver) sweepJobs(ctx context.Context, purpose string, progress func(string)) error {
	sel := labels.Set{LabelApp: d.opts.App, LabelManagedBy: managedBy, LabelJob: purpose}.String()
	list, err := d.client.BatchV1().Jobs(d.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list earlier %s jobs: %w", purpose, err)
	}
	for _, j := range list.Items {
		if err := d.deleteJob(ctx, j.Name); err != nil {
			return err
		}
		progress(fmt.Sprintf("removed Job %s of an earlier run (release %s)", j.Name, j.Annotations[AnnotationRelease]))
	}
	return nil
}
