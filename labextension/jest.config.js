/** Unit tests of the pure logic, the model and the wire contract (no DOM, no Jupyter server). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }]
  },
  collectCoverageFrom: ['src/*.ts', '!src/index.ts', '!src/api.ts'],
  coverageReporters: ['text-summary', 'lcov']
};
