/* The simulated course, as data only. The player renders it, the scripts read the right
 * answers from it, and the noisy generator borrows its questions for believable answers.
 */
window.harness.course = {
  id: "course-secure-passwords-101",
  title: "Secure Passwords 101",
  screens: [
    {
      id: "why-passwords-matter",
      type: "text",
      title: "Why passwords still matter",
      paragraphs: [
        "Most account break-ins do not involve clever hacking. Attackers try passwords leaked from other sites, guess common ones, or simply ask for them in a convincing email.",
        "In the next few minutes you will learn what makes a password hard to guess, the habits that keep your accounts safe, and how to spot a request you should never answer.",
      ],
      points: [
        "Length beats complexity.",
        "Every account deserves its own password.",
        "A second factor stops most stolen passwords.",
      ],
    },
    {
      id: "anatomy-of-a-passphrase",
      type: "media",
      title: "Anatomy of a strong passphrase",
      duration: "1:24",
      caption: "Video: building a passphrase you can remember and nobody can guess.",
      transcript:
        "Pick four or more unrelated words, add something only you would think of, and you have a passphrase that is long, memorable and far harder to crack than P@ssw0rd!.",
    },
    {
      id: "strongest-password",
      type: "single-choice",
      title: "Spot the strongest password",
      question: "Which of these passwords is the strongest?",
      options: ["P@ssw0rd!", "Summer2026", "correct-horse-battery-staple-7", "qwerty123456"],
      correct: [2],
      explanation: "Length wins: a long passphrase of unrelated words is far harder to guess than a short password with symbols.",
    },
    {
      id: "safe-habits",
      type: "multiple-choice",
      title: "Habits that keep you safe",
      question: "Which habits keep your accounts safe?",
      options: [
        "Use a password manager",
        "Turn on multi-factor authentication",
        "Reuse one strong password everywhere",
        "Share a password over chat when it is urgent",
        "Use a different password for every account",
      ],
      correct: [0, 1, 4],
      explanation: "A password manager makes unique passwords easy, and a second factor protects you when one leaks anyway.",
    },
    {
      id: "knowledge-check",
      type: "scored-quiz",
      title: "Knowledge check",
      passMark: 2,
      questions: [
        {
          question: "How long should a passphrase be?",
          options: ["At least 6 characters", "Exactly 8 characters", "15 characters or more"],
          correct: 2,
          points: 1,
        },
        {
          question: "An email asks you to confirm your password through a link. What do you do?",
          options: ["Follow the link and confirm quickly", "Reply with your password", "Report it as phishing"],
          correct: 2,
          points: 1,
        },
        {
          question: "What does multi-factor authentication add?",
          options: ["A longer password", "A second proof that it is you, such as a code or a security key", "A password hint"],
          correct: 1,
          points: 1,
        },
      ],
    },
    {
      id: "your-feedback",
      type: "feedback",
      title: "How was this course?",
      question: "Rate this course from 1 to 5.",
      labels: ["Poor", "Fair", "Good", "Very good", "Excellent"],
    },
  ],
};
