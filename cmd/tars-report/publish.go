package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// reportKey is where a report is stored: <prefix>/<period>/<region>/<end
// date>.<ext>, the end date in UTC (the daily report run at 00:00 UTC on
// the 30th covers the 29th and is named 2026-11-30).
func reportKey(prefix, period, region string, end time.Time, ext string) string {
	name := end.UTC().Format("2006-01-02") + "." + ext
	if prefix == "" {
		return path.Join(period, region, name)
	}
	return path.Join(prefix, period, region, name)
}

// ObjectStore stores one object.
type ObjectStore interface {
	Put(ctx context.Context, bucket, key, contentType string, body []byte) error
}

// s3Store is S3 through the SDK's default credential chain (IRSA in the
// cluster: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE).
type s3Store struct {
	client *s3.Client
	region string
}

func newS3Store(ctx context.Context, awsRegion, endpoint string) (*s3Store, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if awsRegion != "" {
		opts = append(opts, awsconfig.WithRegion(awsRegion))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("aws config: no region (set --aws-region or AWS_REGION)")
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	return &s3Store{client: client, region: cfg.Region}, nil
}

func (s *s3Store) Put(ctx context.Context, bucket, key, contentType string, body []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("s3 put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// consoleLinker is a store that can link an object for humans.
type consoleLinker interface {
	consoleURL(bucket, key string) string
}

// consoleURL opens the object in the S3 console.
func (s *s3Store) consoleURL(bucket, key string) string {
	return "https://s3.console.aws.amazon.com/s3/object/" + url.PathEscape(bucket) + "?" + url.Values{"region": {s.region}, "prefix": {key}}.Encode()
}

// store writes the Markdown and JSON reports and records where.
func store(ctx context.Context, st ObjectStore, c config, r *Report) error {
	loc := &ReportLocations{
		Bucket:   c.Bucket,
		Markdown: reportKey(c.Prefix, r.Period, r.Region, r.End, "md"),
		JSON:     reportKey(c.Prefix, r.Period, r.Region, r.End, "json"),
	}
	if cs, ok := st.(consoleLinker); ok {
		loc.Console = cs.consoleURL(c.Bucket, loc.Markdown)
	}
	r.Location = loc
	js, err := r.JSON()
	if err != nil {
		return err
	}
	if err := st.Put(ctx, c.Bucket, loc.Markdown, "text/markdown; charset=utf-8", []byte(r.Markdown())); err != nil {
		return err
	}
	return st.Put(ctx, c.Bucket, loc.JSON, "application/json", js)
}

// webhook is a Slack incoming-webhook URL. It is a secret: it formats as
// "[redacted]" everywhere, so no log line or error can carry it.
type webhook struct{ url string }

func (webhook) String() string   { return "[redacted]" }
func (webhook) GoString() string { return "[redacted]" }

// readWebhook reads the URL from the mounted Secret file.
func readWebhook(file string) (webhook, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return webhook{}, fmt.Errorf("slack webhook file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The file's content is not echoed: it may be the secret, mangled.
		return webhook{}, fmt.Errorf("slack webhook file %s: not an http(s) URL", file)
	}
	return webhook{url: s}, nil
}

// Notifier posts the summary.
type Notifier interface {
	Notify(ctx context.Context, text string) error
}

type slackNotifier struct {
	hook webhook
	http *http.Client
}

func newSlackNotifier(hook webhook) *slackNotifier {
	return &slackNotifier{hook: hook, http: &http.Client{
		Timeout: 30 * time.Second,
		// A webhook never redirects; following one would send the
		// message somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *slackNotifier) Notify(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]any{"text": text, "mrkdwn": true})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.hook.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("slack: cannot build the request (bad webhook URL)")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		// *url.Error prints the URL: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("slack: post: %s", redact(err.Error(), s.hook.url))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("slack: %s: %s", resp.Status, redact(strings.TrimSpace(string(msg)), s.hook.url))
	}
	return nil
}

// redact removes the webhook URL, and its path (the secret part), from s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, "[redacted]")
	if u, err := url.Parse(secret); err == nil && len(u.Path) > 1 {
		s = strings.ReplaceAll(s, u.Path, "[redacted]")
	}
	return s
}
