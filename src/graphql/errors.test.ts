import { GraphQLError } from 'graphql';
import { BadUserInputError, createFormatError, ErrorCode, NotFoundError } from './errors.js';

const format = (error: unknown, includeStacktrace = false) => {
  const graphQLError = error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error, path: ['viewer'] });
  const formatted = { ...graphQLError.toJSON(), extensions: { ...graphQLError.extensions, stacktrace: ['at somewhere'] } };
  return createFormatError({ includeStacktrace })(formatted, graphQLError);
};

describe('createFormatError', () => {
  it('passes errors raised on purpose through, without the stack trace', () => {
    expect(format(new BadUserInputError('input.body: too long', 'input.body'))).toEqual({
      message: 'input.body: too long',
      extensions: { code: ErrorCode.BadUserInput, field: 'input.body' },
    });
    expect(format(new NotFoundError('Conversation', 'abc')).extensions).toEqual({ code: ErrorCode.NotFound });
  });

  it('keeps the stack trace of an expected error when asked (development)', () => {
    expect(format(new NotFoundError('Conversation', 'abc'), true).extensions?.stacktrace).toEqual(['at somewhere']);
  });

  it('masks anything else, whatever it says, even in development', () => {
    const masked = format(new Error('relation "users" does not exist at SELECT secret FROM ...'), true);
    expect(masked).toEqual({ message: 'Internal server error', path: ['viewer'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('masks an error that claims a public code but is not ours', () => {
    const claimed = new GraphQLError('leaky', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(format(claimed).message).toBe('Internal server error');
  });
});
