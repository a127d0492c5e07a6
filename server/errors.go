package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/getsentry/sentry-go"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/privacy"
)

// AppError translates any error into an *engine.Error: engine errors keep
// their code; ent's not-found, validation and constraint errors and privacy
// denials get theirs; everything else is EINTERNAL. This is the one place
// where storage errors become API errors.
func AppError(err error) *engine.Error {
	var ee *engine.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return ee
	case ent.IsNotFound(err):
		return engine.Wrap(err, engine.ENOTFOUND, "not found")
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return engine.Wrap(err, engine.EINVALID, "invalid value for "+ve.Name)
	case ent.IsConstraintError(err):
		return engine.Wrap(err, engine.ECONFLICT, "conflicts with existing data")
	case errors.Is(err, privacy.Deny):
		return engine.Wrap(err, engine.EFORBIDDEN, "forbidden")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return engine.Wrap(err, engine.ELIMIT, "request cancelled or timed out")
	}
	return engine.Wrap(err, engine.EINTERNAL, "internal error")
}

// errorPresenter puts the code in extensions.code and keeps messages safe:
// internal errors show a generic message and are logged (and sent to Sentry)
// once, here at the edge.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			// entgql reports a missing node with its own code; ours is ENOTFOUND.
			if code, _ := gqlErr.Extensions["code"].(string); code == "NOT_FOUND" {
				gqlErr.Extensions["code"] = engine.ENOTFOUND
				gqlErr.Message = "not found"
			}
			// Parse and validation errors from gqlparser already carry a code.
			return gqlErr
		}
		out := graphql.DefaultErrorPresenter(ctx, err)
		ae := AppError(err)
		if ae.Code == engine.EINTERNAL {
			log.ErrorContext(ctx, "internal error", slog.Any("err", err), slog.String("path", out.Path.String()))
			if hub := sentry.GetHubFromContext(ctx); hub != nil {
				hub.CaptureException(err)
			} else {
				sentry.CaptureException(err)
			}
		}
		out.Message = ae.Message
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		out.Extensions["code"] = ae.Code
		for k, v := range ae.Details {
			out.Extensions[k] = v
		}
		return out
	}
}

// recoverFunc turns a resolver panic into EINTERNAL with a generic message.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		sentry.CurrentHub().Recover(p)
		return engine.Errorf(engine.EINTERNAL, "internal error")
	}
}
