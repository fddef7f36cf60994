/** Unit tests of the pure logic and the model (no DOM, no Jupyter server). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }]
  },
  collectCoverageFrom: ['src/logic.ts', 'src/model.ts'],
  coverageReporters: ['text-summary', 'lcov']
};
